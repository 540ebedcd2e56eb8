/** Events an {@link OutboxRelay} reports (its instrumentation). */
export interface OutboxRelayEvents {
  /** One batch was committed. `maxAgeMs`: the oldest published row's time in the outbox. */
  dispatched: {
    readonly published: number;
    readonly deadLettered: number;
    readonly maxAgeMs: number;
    readonly durationMs: number;
  };
  /** A row that no longer decodes was moved to the dead-letter table. */
  'dead-lettered': { readonly id: string; readonly seq: string; readonly reason: string };
  /**
   * A destination refused its rows (`NO_SUBSCRIBERS`, or another non-retriable error of that
   * destination only): they stay pending with `last_error` set, the relay goes on with the other
   * destinations and leaves this one out until `retryInMs` has passed.
   */
  refused: {
    readonly destination: string;
    /** Rows of this batch left pending. */
    readonly rows: number;
    readonly error: unknown;
    /** Refusals of this destination in a row (by this relay). */
    readonly consecutiveFailures: number;
    readonly retryInMs: number;
  };
  /** A batch failed (database or transport); the relay retries after `retryInMs`. */
  error: { readonly error: unknown; readonly consecutiveFailures: number; readonly retryInMs: number };
  /** Backlog, measured every `lagIntervalMs`. */
  lag: { readonly pending: number; readonly oldestAgeMs: number };
  /** Retention cleanup removed rows. */
  cleaned: { readonly outbox: number; readonly inbox: number };
}

/** Name of an {@link OutboxRelayEvents} event. */
export type OutboxRelayEventName = keyof OutboxRelayEvents;

/** Listener of one relay event. Errors it throws are logged and ignored. */
export type OutboxRelayListener<K extends OutboxRelayEventName> = (event: OutboxRelayEvents[K]) => void;
