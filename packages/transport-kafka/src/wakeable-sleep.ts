/**
 * Timers that can all be cut short at once: `sleep(ms)` resolves `true` when the time passed and
 * `false` when {@link wakeAll} woke it first (e.g. the owner is closing, or an awaited event
 * happened). Every timer is cleared when it resolves, so nothing outlives a wake-up.
 * Single event loop; not shared between owners.
 */
export class WakeableSleep {
  readonly #wakers = new Set<() => void>();

  /** Wait `ms`; `true` when it elapsed, `false` when woken early. */
  sleep(ms: number): Promise<boolean> {
    return new Promise<boolean>((resolve) => {
      const wake = (): void => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        resolve(false);
      };
      const timer = setTimeout(() => {
        this.#wakers.delete(wake);
        resolve(true);
      }, ms);
      this.#wakers.add(wake);
    });
  }

  /** Wake every pending sleep now (they resolve `false`). */
  wakeAll(): void {
    for (const wake of [...this.#wakers]) wake();
  }
}
