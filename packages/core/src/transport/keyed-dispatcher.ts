/** Options for {@link KeyedDispatcher}. */
export interface KeyedDispatcherOptions<T> {
  /** Most items running at once (≥ 1). */
  readonly concurrency: number;
  /** Run items with the same key one at a time, in push order. */
  readonly ordered: boolean;
  /** Handles one item. Must settle the item itself; a rejection is passed to `onError`. */
  readonly run: (item: T) => Promise<void>;
  /** Receives rejections of `run` (which should not happen: the router settles everything). */
  readonly onError?: (error: unknown, item: T) => void;
}

interface Entry<T> {
  readonly item: T;
  readonly key: string | undefined;
}

/**
 * Shared helper for adapters: runs received items with a concurrency limit and, when ordered,
 * one at a time per key in arrival order (delivery contract rules 7 and 8, docs/concepts/delivery-contract.md). Push-based adapters push
 * everything the broker hands them; pull-based adapters await {@link waitForCapacity} before
 * each fetch. On close, {@link stop} hands back the items that never started, so the adapter
 * can release them to the broker, and {@link drain} waits for the running ones.
 *
 * Not thread-safe across workers; safe for any interleaving of async calls in one event loop.
 */
export class KeyedDispatcher<T> {
  readonly #options: KeyedDispatcherOptions<T>;
  readonly #waiting: Entry<T>[] = [];
  readonly #busyKeys = new Set<string>();
  readonly #idleWaiters: (() => void)[] = [];
  readonly #capacityWaiters: (() => void)[] = [];
  #running = 0;
  #stopped = false;

  constructor(options: KeyedDispatcherOptions<T>) {
    if (!Number.isInteger(options.concurrency) || options.concurrency < 1) {
      throw new RangeError(`concurrency must be an integer ≥ 1, got ${String(options.concurrency)}`);
    }
    this.#options = options;
  }

  /** Items currently running. */
  get running(): number {
    return this.#running;
  }

  /** Items accepted but not started yet. */
  get queued(): number {
    return this.#waiting.length;
  }

  /** Queue an item; it starts as soon as the limit and its key allow. Ignored after {@link stop}. */
  push(item: T, key?: string): void {
    if (this.#stopped) return;
    this.#waiting.push({ item, key: this.#options.ordered ? key : undefined });
    this.#pump();
  }

  /** Resolves when fewer than `concurrency` items are running or queued. */
  waitForCapacity(): Promise<void> {
    if (this.#hasCapacity() || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#capacityWaiters.push(resolve));
  }

  /** Free slots right now (`concurrency - running - queued`, never below 0). */
  get freeSlots(): number {
    return Math.max(0, this.#options.concurrency - this.#running - this.#waiting.length);
  }

  /** Stop starting items; returns those that never started, in arrival order. Idempotent. */
  stop(): T[] {
    this.#stopped = true;
    const unstarted = this.#waiting.splice(0).map((entry) => entry.item);
    this.#wakeCapacity();
    this.#checkIdle();
    return unstarted;
  }

  /** Wait up to `timeoutMs` for running items to finish. Resolves `true` when none is left. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#running === 0 && this.#waiting.length === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<boolean>((resolve) => this.#idleWaiters.push(() => resolve(true)));
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    try {
      return await Promise.race([idle, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  #hasCapacity(): boolean {
    return this.#running + this.#waiting.length < this.#options.concurrency;
  }

  #pump(): void {
    if (!this.#options.ordered) {
      // No keys: first in, first out.
      while (this.#waiting.length > 0 && this.#running < this.#options.concurrency)
        this.#start(this.#waiting.shift() as Entry<T>);
      return;
    }
    for (let i = 0; i < this.#waiting.length && this.#running < this.#options.concurrency;) {
      const entry = this.#waiting[i] as Entry<T>;
      if (entry.key !== undefined && this.#busyKeys.has(entry.key)) {
        i += 1;
        continue;
      }
      this.#waiting.splice(i, 1);
      this.#start(entry);
    }
  }

  #start(entry: Entry<T>): void {
    this.#running += 1;
    const key = entry.key;
    if (key !== undefined) this.#busyKeys.add(key);
    let running: Promise<void>;
    try {
      running = this.#options.run(entry.item);
    } catch (error) {
      this.#fail(error, entry);
      return;
    }
    // Unkeyed items with no error hook (the common case) share two bound callbacks: no closure per item.
    if (key === undefined && this.#options.onError === undefined)
      running.then(this.#settledUnkeyed, this.#settledUnkeyed);
    else
      running.then(
        () => this.#finish(key),
        (error: unknown) => this.#fail(error, entry),
      );
  }

  readonly #settledUnkeyed = (): void => {
    this.#finish(undefined);
  };

  #fail(error: unknown, entry: Entry<T>): void {
    this.#options.onError?.(error, entry.item);
    this.#finish(entry.key);
  }

  #finish(key: string | undefined): void {
    this.#running -= 1;
    if (key !== undefined) this.#busyKeys.delete(key);
    if (!this.#stopped) this.#pump();
    this.#wakeCapacity();
    this.#checkIdle();
  }

  #wakeCapacity(): void {
    while (this.#capacityWaiters.length > 0 && (this.#hasCapacity() || this.#stopped)) {
      this.#capacityWaiters.shift()?.();
    }
  }

  #checkIdle(): void {
    if (this.#running === 0 && (this.#waiting.length === 0 || this.#stopped)) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }
}
