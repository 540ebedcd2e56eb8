/** Options of {@link waitFor}. */
export interface WaitForOptions {
  /** Give up after this many ms (default 5000). */
  readonly timeoutMs?: number;
  /** Poll interval in ms (default 10). */
  readonly intervalMs?: number;
  /** Text for the timeout error. */
  readonly message?: string;
}

/**
 * Poll `condition` until it returns a truthy value (or a promise of one) and resolve with it.
 * Rejects with an Error after `timeoutMs`; a throwing condition is retried until then and its
 * last error is reported. For tests: await outcomes instead of sleeping.
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
    try {
      const value = await condition();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const suffix =
        lastError === undefined
          ? ''
          : ` (last error: ${lastError instanceof Error ? lastError.message : JSON.stringify(lastError)})`;
      throw new Error(`${options.message ?? 'condition not met'} within ${String(timeoutMs)} ms${suffix}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
