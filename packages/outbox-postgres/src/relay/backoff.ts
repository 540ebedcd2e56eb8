/** Exponential backoff with full jitter: attempt 1 → up to `baseMs`, doubling, capped at `maxMs`. Pure. */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, Math.min(30, attempt - 1)));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * A sleep that `wake()` ends early. One sleeper at a time per instance is enough for the relay
 * (each worker owns one). `wake()` before `sleep()` makes the next sleep return at once.
 */
export class Wakeable {
  #pending = false;
  #wake: (() => void) | undefined;

  /** Resolves after `ms`, or as soon as {@link wake} is called. */
  sleep(ms: number): Promise<void> {
    if (this.#pending) {
      this.#pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        if (this.#wake === done) this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }

  /** End the current sleep (or the next one). */
  wake(): void {
    const wake = this.#wake;
    if (wake === undefined) this.#pending = true;
    else wake();
  }
}

/**
 * Per-destination backoff of a relay: a destination that refused its rows is left out of the
 * relay's batches until its delay passes (growing with each refusal in a row, like
 * {@link backoffDelay}), so it never holds other destinations' rows behind it; a publish to it
 * that succeeds clears it. One relay's memory: another relay learns a refusal by its own attempt.
 */
export class DestinationBackoff {
  readonly #entries = new Map<string, { failures: number; until: number }>();
  readonly #baseMs: number;
  readonly #maxMs: number;
  readonly #random: () => number;

  constructor(baseMs: number, maxMs: number, random: () => number = Math.random) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
    this.#random = random;
  }

  /** Destinations still in their delay at `now` (to leave out of the next batch). */
  blocked(now: number): string[] {
    const blocked: string[] = [];
    for (const [destination, entry] of this.#entries) if (entry.until > now) blocked.push(destination);
    return blocked;
  }

  /** Record a refusal at `now`: its refusals in a row and the delay before the next try. */
  refused(destination: string, now: number): { consecutiveFailures: number; retryInMs: number } {
    const failures = (this.#entries.get(destination)?.failures ?? 0) + 1;
    const retryInMs = backoffDelay(failures, this.#baseMs, this.#maxMs, this.#random);
    this.#entries.set(destination, { failures, until: now + retryInMs });
    return { consecutiveFailures: failures, retryInMs };
  }

  /** A publish to `destination` succeeded: its backoff starts over. */
  succeeded(destination: string): void {
    this.#entries.delete(destination);
  }
}
