/**
 * Resolve `true` after `ms`, or `false` as soon as `signal` aborts (at once when it already has).
 * Never rejects; the timer and the abort listener are removed either way, so nothing outlives
 * the wait. Use one `AbortController` per owner (subscription, consumer) and abort it on close to
 * cut every pending wait short. Never use it to wait for an outcome in a test (use
 * {@link waitFor}).
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  if (signal?.aborted === true) return Promise.resolve(false);
  return new Promise<boolean>((resolve) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve(true);
      },
      Math.max(0, ms),
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
