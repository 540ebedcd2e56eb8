import { SETTLED_SYNC } from './settled-sync.js';

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
  /** Ordered: items waiting with their keys. */
  readonly #waiting: Entry<T>[] = [];
  /** Unordered: items waiting as they are (no entry object per item). */
  readonly #plain: T[] = [];
  readonly #busyKeys = new Set<string>();
  readonly #idleWaiters: (() => void)[] = [];
  readonly #capacityWaiters: (() => void)[] = [];
  #running = 0;
  #stopped = false;
  /** True while {@link #pump} runs (an item finishing synchronously inside it must not recurse). */
  #pumping = false;
  /** Something finished while pumping: pump again before returning. */
  #repump = false;

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
    return this.#waiting.length + this.#plain.length;
  }

  /** Queue an item; it starts as soon as the limit and its key allow. Ignored after {@link stop}. */
  push(item: T, key?: string): void {
    if (this.#stopped) return;
    if (this.#options.ordered) this.#waiting.push({ item, key });
    else this.#plain.push(item);
    this.#pump();
  }

  /** Resolves when fewer than `concurrency` items are running or queued. */
  waitForCapacity(): Promise<void> {
    if (this.#hasCapacity() || this.#stopped) return Promise.resolve();
    return new Promise((resolve) => this.#capacityWaiters.push(resolve));
  }

  /** Free slots right now (`concurrency - running - queued`, never below 0). */
  get freeSlots(): number {
    return Math.max(0, this.#options.concurrency - this.#running - this.queued);
  }

  /** Stop starting items; returns those that never started, in arrival order. Idempotent. */
  stop(): T[] {
    this.#stopped = true;
    const unstarted = this.#options.ordered
      ? this.#waiting.splice(0).map((entry) => entry.item)
      : this.#plain.splice(0);
    this.#wakeCapacity();
    this.#checkIdle();
    return unstarted;
  }

  /** Wait up to `timeoutMs` for running items to finish. Resolves `true` when none is left. */
  async drain(timeoutMs: number): Promise<boolean> {
    if (this.#running === 0 && this.queued === 0) return true;
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
    return this.#running + this.queued < this.#options.concurrency;
  }

  #pump(): void {
    if (this.#pumping) {
      this.#repump = true;
      return;
    }
    this.#pumping = true;
    try {
      do {
        this.#repump = false;
        this.#pumpOnce();
      } while (this.#repump && !this.#stopped);
    } finally {
      this.#pumping = false;
    }
  }

  #pumpOnce(): void {
    if (!this.#options.ordered) {
      // No keys: first in, first out.
      const plain = this.#plain;
      while (plain.length > 0 && this.#running < this.#options.concurrency) this.#start(plain.shift() as T, undefined);
      return;
    }
    for (let i = 0; i < this.#waiting.length && this.#running < this.#options.concurrency;) {
      const entry = this.#waiting[i] as Entry<T>;
      if (entry.key !== undefined && this.#busyKeys.has(entry.key)) {
        i += 1;
        continue;
      }
      this.#waiting.splice(i, 1);
      this.#start(entry.item, entry.key);
    }
  }

  #start(item: T, key: string | undefined): void {
    this.#running += 1;
    if (key !== undefined) this.#busyKeys.add(key);
    let running: Promise<void>;
    try {
      running = this.#options.run(item);
    } catch (error) {
      this.#fail(error, item, key);
      return;
    }
    // Finished synchronously (the router settled it without waiting): no `.then`, no microtask.
    if (running === SETTLED_SYNC) {
      this.#finish(key);
      return;
    }
    // Unkeyed items with no error hook (the common case) share two bound callbacks: no closure per item.
    if (key === undefined && this.#options.onError === undefined)
      running.then(this.#settledUnkeyed, this.#settledUnkeyed);
    else
      running.then(
        () => this.#finish(key),
        (error: unknown) => this.#fail(error, item, key),
      );
  }

  readonly #settledUnkeyed = (): void => {
    this.#finish(undefined);
  };

  #fail(error: unknown, item: T, key: string | undefined): void {
    this.#options.onError?.(error, item);
    this.#finish(key);
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
    if (this.#running === 0 && (this.queued === 0 || this.#stopped)) {
      for (const wake of this.#idleWaiters.splice(0)) wake();
    }
  }
}
