import type { OptionSchema } from '../../config/option-schema.js';
import type { InMemoryBroker } from './in-memory-broker.js';

/** Longest timer Node.js supports (~24.8 days); also the in-memory transport's delay ceiling. */
export const MAX_TIMER_MS = 2_147_483_647;

/**
 * Options of the in-memory transport (`OMNIBUS_IN_MEMORY_<OPTION>` environment variables).
 * Every option has a default, so `{}` is a valid configuration.
 */
export const inMemoryOptionSchema = {
  maxPayloadBytes: {
    type: 'integer',
    default: 1_048_576,
    min: 1,
    description: 'Largest payload accepted at publish, in bytes; larger ones reject with PAYLOAD_TOO_LARGE.',
  },
  maxDelayMs: {
    type: 'integer',
    default: MAX_TIMER_MS,
    min: 0,
    max: MAX_TIMER_MS,
    description:
      'Largest publish delay and retry delay, in ms (0 disables delayed delivery); longer ones reject with DELAY_OUT_OF_RANGE.',
  },
  prefetch: {
    type: 'integer',
    default: 0,
    min: 0,
    description:
      'Unsettled messages a subscription may hold (running + buffered); 0 means twice its concurrency.',
  },
  deduplicationWindowMs: {
    type: 'integer',
    default: 0,
    min: 0,
    description:
      'When > 0, a second publish of the same message id to a destination within this window is dropped.',
  },
  reconnectDelayMs: {
    type: 'integer',
    default: 10,
    min: 0,
    description: 'Pause before re-attaching after the (simulated) connection was lost, in ms.',
  },
  connectTimeoutMs: {
    type: 'integer',
    default: 5_000,
    min: 0,
    description:
      'How long connect() and publish() wait for a (simulated) broker outage to end before rejecting.',
  },
} as const satisfies OptionSchema;

/** Options accepted by {@link InMemoryTransport}'s constructor; all optional. */
export interface InMemoryTransportOptions {
  /** Broker to attach to; share one between transports to test competing consumers and fan-out. Default: a private broker. */
  readonly broker?: InMemoryBroker;
  /** See {@link inMemoryOptionSchema}. */
  readonly maxPayloadBytes?: number;
  /** See {@link inMemoryOptionSchema}. */
  readonly maxDelayMs?: number;
  /** See {@link inMemoryOptionSchema}. */
  readonly prefetch?: number;
  /** See {@link inMemoryOptionSchema}. */
  readonly deduplicationWindowMs?: number;
  /** See {@link inMemoryOptionSchema}. */
  readonly reconnectDelayMs?: number;
  /** See {@link inMemoryOptionSchema}. */
  readonly connectTimeoutMs?: number;
}

/** Options with every default applied. */
export interface ResolvedInMemoryOptions {
  readonly maxPayloadBytes: number;
  readonly maxDelayMs: number;
  readonly prefetch: number;
  readonly deduplicationWindowMs: number;
  readonly reconnectDelayMs: number;
  readonly connectTimeoutMs: number;
}

/** Apply defaults; throws a `RangeError` for values outside the schema's bounds. */
export function resolveInMemoryOptions(options: InMemoryTransportOptions): ResolvedInMemoryOptions {
  const pick = (key: keyof typeof inMemoryOptionSchema): number => {
    const spec = inMemoryOptionSchema[key];
    const value = options[key] ?? spec.default;
    const max = 'max' in spec ? spec.max : Number.MAX_SAFE_INTEGER;
    if (!Number.isInteger(value) || value < spec.min || value > max) {
      throw new RangeError(
        `in-memory transport option ${key} must be an integer in [${String(spec.min)}, ${String(max)}], got ${String(value)}`,
      );
    }
    return value;
  };
  return {
    maxPayloadBytes: pick('maxPayloadBytes'),
    maxDelayMs: pick('maxDelayMs'),
    prefetch: pick('prefetch'),
    deduplicationWindowMs: pick('deduplicationWindowMs'),
    reconnectDelayMs: pick('reconnectDelayMs'),
    connectTimeoutMs: pick('connectTimeoutMs'),
  };
}
