import type { TransportStatus, TransportStatusListener } from './transport.js';

/**
 * Shared helper for adapters: holds a transport's {@link TransportStatus} and notifies
 * listeners, so every adapter implements `status` and `onStatusChange` the same way.
 *
 * Rules: setting the current status again without an error is a no-op; once `closing` or
 * `closed`, only `closed` is accepted (a late "reconnecting" from a dying client is ignored);
 * a listener that throws is ignored and never breaks the caller. Synchronous.
 */
export class TransportStatusTracker {
  readonly #listeners = new Set<TransportStatusListener>();
  #status: TransportStatus = 'idle';

  /** Current status. */
  get status(): TransportStatus {
    return this.#status;
  }

  /** True once `closing` or `closed` was set. */
  get isClosing(): boolean {
    return this.#status === 'closing' || this.#status === 'closed';
  }

  /** Add a listener; returns its disposer. */
  onChange(listener: TransportStatusListener): () => void {
    this.#listeners.add(listener);
    return () => {
      this.#listeners.delete(listener);
    };
  }

  /** Move to `status` (with the error that caused it, if any) and notify listeners. */
  set(status: TransportStatus, error?: Error): void {
    if (status === this.#status && error === undefined) return;
    if (this.isClosing && status !== 'closed') return;
    this.#status = status;
    for (const listener of this.#listeners) {
      try {
        listener(status, error);
      } catch {
        // A listener's failure is its own; status changes must never throw into an adapter.
      }
    }
  }
}
