/**
 * Abort controllers of the handler attempts currently running, so the router can wait for
 * them (bounded) and abort the stragglers when the bus stops. Single event loop only.
 */
export class InFlightTracker {
  readonly #controllers = new Set<AbortController>();
  readonly #idleWaiters: (() => void)[] = [];

  /** Attempts running now. */
  get size(): number {
    return this.#controllers.size;
  }

  /** Track a new attempt; returns its controller. */
  start(): AbortController {
    const controller = new AbortController();
    this.#controllers.add(controller);
    return controller;
  }

  /** Stop tracking an attempt (idempotent). */
  finish(controller: AbortController): void {
    this.#controllers.delete(controller);
    if (this.#controllers.size === 0) for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  /** Resolve when nothing runs, or after `timeoutMs`; then abort whatever still runs with `reason`. */
  async settle(timeoutMs: number, reason: unknown): Promise<void> {
    if (this.#controllers.size > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        new Promise<void>((resolve) => this.#idleWaiters.push(resolve)),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, Math.max(0, timeoutMs));
        }),
      ]);
      clearTimeout(timer);
    }
    for (const controller of this.#controllers) controller.abort(reason);
  }
}
