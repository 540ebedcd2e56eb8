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
