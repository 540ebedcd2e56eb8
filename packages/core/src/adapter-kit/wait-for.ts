/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many ms (default 5000). */
  readonly timeoutMs?: number;
  /** Poll interval in ms (default 10). */
  readonly intervalMs?: number;
  /** What is awaited, for the timeout error (default `condition not met`). */
  readonly message?: string;
  /** Called on timeout to explain the state (e.g. which ids are still missing). */
  readonly detail?: () => string;
  /** Stop waiting when it aborts: rejects with the signal's reason. */
  readonly signal?: AbortSignal;
}

/** Thrown by {@link waitFor} when the condition did not hold in time. */
export class WaitTimeoutError extends Error {
  /** How long was waited, in ms. */
  readonly timeoutMs: number;

  constructor(message: string, timeoutMs: number) {
    super(message);
    this.name = 'WaitTimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Poll `condition` until it returns a truthy value (or a promise of one) and resolve with it.
 * After `timeoutMs` rejects with a {@link WaitTimeoutError} whose message reads
 * `<message> within <timeoutMs> ms`, followed by the condition's last error when it threw and by
 * `detail()` when given. A throwing condition is retried until then. Leaves no timer behind.
 * For tests and tools: await outcomes instead of sleeping.
 */
export async function waitFor<T>(
  condition: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const intervalMs = options.intervalMs ?? 10;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const last =
        lastError === undefined
          ? ''
          : ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})`;
      const detail = options.detail === undefined ? '' : `: ${options.detail()}`;
      throw new WaitTimeoutError(
        `${options.message ?? 'condition not met'} within ${String(timeoutMs)} ms${last}${detail}`,
        timeoutMs,
      );
    }
    await new Promise((resolve) =>
      setTimeout(resolve, Math.min(intervalMs, Math.max(1, deadline - Date.now()))),
    );
  }
}
