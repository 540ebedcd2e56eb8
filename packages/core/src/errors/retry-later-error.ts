const BRAND = Symbol.for('omnibus.retry-later');

/**
 * Flow control: throw from a handler to have the message redelivered after `delayMs` instead
 * of the retry policy's backoff (e.g. a downstream service said "retry after 30 s"). Still
 * bounded by the handler's `maxAttempts`: on the last attempt the message is dead-lettered
 * (reason `RETRIES_EXHAUSTED`). The delay is clamped to the transport's `maxRetryDelayMs`.
 * Without `delayMs` the policy's backoff applies. Recognised across duplicate package copies
 * by {@link isRetryLaterError}.
 */
export class RetryLaterError extends Error {
  /** Requested delay before the next attempt, in ms (undefined: the policy's backoff). */
  readonly delayMs: number | undefined;

  constructor(
    delayMs?: number,
    message = 'handler asked to retry later',
    options: { readonly cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    if (delayMs !== undefined && (!Number.isFinite(delayMs) || delayMs < 0)) {
      throw new RangeError(`RetryLaterError delayMs must be a finite number ≥ 0, got ${String(delayMs)}`);
    }
    this.name = 'RetryLaterError';
    this.delayMs = delayMs;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True for a {@link RetryLaterError}, even one from another copy of `@omnibus/core`. */
export function isRetryLaterError(value: unknown): value is RetryLaterError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
