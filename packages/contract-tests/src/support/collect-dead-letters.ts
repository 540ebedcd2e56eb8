import type { DeadLetteredMessage } from '../contract-options.js';

/**
 * A `readDeadLetters` for a transport whose dead letters land in several places (e.g. the two
 * brokers of a migration): calls each of `readers` (each reads and removes what it finds) every
 * `intervalMs` until `count` were found or `timeoutMs` passed, and returns them all.
 */
export async function collectDeadLetters(
  readers: readonly (() => Promise<readonly DeadLetteredMessage[]>)[],
  count: number,
  timeoutMs: number,
  intervalMs = 10,
): Promise<DeadLetteredMessage[]> {
  const found: DeadLetteredMessage[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const read of readers) found.push(...(await read()));
    if (found.length >= count || Date.now() >= deadline) return found;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
