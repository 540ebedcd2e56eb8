/** What {@link withTimeout} resolves with. */
export type TimeoutResult<T> = { readonly settled: true; readonly value: T } | { readonly settled: false };

/**
 * Race `work` against `ms`: resolves `{ settled: true, value }` when it resolved in time,
 * `{ settled: false }` after `ms` (the work keeps running; it is not cancelled), and rejects with
 * the work's error when it rejected in time. The timer is cleared either way. Use it to bound a
 * wait (a drain, a final commit, a consumer stop) without leaving a timer behind.
 */
export async function withTimeout<T>(work: Promise<T>, ms: number): Promise<TimeoutResult<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<TimeoutResult<T>>((resolve) => {
    timer = setTimeout(() => resolve({ settled: false }), Math.max(0, ms));
  });
  try {
    return await Promise.race([work.then((value): TimeoutResult<T> => ({ settled: true, value })), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
