/** A running attempt as the tracker sees it: something that can be given up with a reason. */
export interface Abortable {
  /** Give up the attempt (abort its signal and fail it with `reason`). */
  abort(reason: unknown): void;
}

/**
 * The handler attempts currently running, so the router can wait for them (bounded) and give
 * up on the stragglers when the bus stops. Adding and removing are O(1). Single event loop only.
 */
export class InFlightTracker {
  readonly #running = new Set<Abortable>();
  readonly #idleWaiters: (() => void)[] = [];

  /** Attempts running now. */
  get size(): number {
    return this.#running.size;
  }

  /** Track a running attempt. */
  add(attempt: Abortable): void {
    this.#running.add(attempt);
  }

  /** Stop tracking an attempt (idempotent). */
  delete(attempt: Abortable): void {
    this.#running.delete(attempt);
    if (this.#running.size === 0 && this.#idleWaiters.length > 0)
      for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /** Resolve when nothing runs, or after `timeoutMs`; then abort whatever still runs with `reason`. */
  async settle(timeoutMs: number, reason: unknown): Promise<void> {
    if (this.#running.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.max(0, timeoutMs));
        }),
      ]);
      clearTimeout(timer);
    }
    for (const attempt of [...this.#running]) attempt.abort(reason);
  }
}
