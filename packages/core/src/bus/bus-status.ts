/**
 * Lifecycle of an {@link EventBus}: `idle` → `starting` → `started` → `stopping` → `stopped`.
 * A failed start ends in `stopped` (create a new bus to retry).
 */
export type BusStatus = 'idle' | 'starting' | 'started' | 'stopping' | 'stopped';
