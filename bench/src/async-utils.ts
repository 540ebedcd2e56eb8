import { setTimeout as sleepMs } from 'node:timers/promises';

/** Resolve after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return sleepMs(ms).then(() => undefined);
}

/** Resolve on the next turn of the event loop (after I/O). */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Busy-spin the CPU for `microseconds` (simulated CPU-bound handler work). */
export function spin(microseconds: number): void {
  const end = performance.now() + microseconds / 1000;
  while (performance.now() < end) {
    // burn
  }
}

/** Reject with `message` when `promise` takes longer than `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Counts arrivals and lets callers wait until a count is reached. Used to detect the end of a
 * drain (all N handled) and to hold K handlers in flight (memory workload).
 */
export class Counter {
  #count = 0;
  #waiters: { target: number; resolve: () => void }[] = [];

  get count(): number {
    return this.#count;
  }

  increment(): void {
    this.#count += 1;
    if (this.#waiters.length === 0) return;
    const due = this.#waiters.filter((w) => w.target <= this.#count);
    if (due.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.target > this.#count);
    for (const w of due) w.resolve();
  }

  /** Resolves once the count reached `target`. */
  reach(target: number): Promise<void> {
    if (this.#count >= target) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ target, resolve }));
  }
}

/** A counting semaphore (the raw baselines' concurrency limit). */
export class Semaphore {
  #free: number;
  readonly #queue: (() => void)[] = [];

  constructor(size: number) {
    this.#free = size;
  }

  acquire(): Promise<void> {
    if (this.#free > 0) {
      this.#free -= 1;
      return Promise.resolve();
    }
    return new Promise((resolve) => this.#queue.push(resolve));
  }

  release(): void {
    const next = this.#queue.shift();
    if (next !== undefined) next();
    else this.#free += 1;
  }
}

/** Run `task` for every index in [0, count) with at most `window` in flight; resolves when all settled (first rejection rethrown). */
export async function windowed(count: number, window: number, task: (index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failure: unknown;
  const worker = async (): Promise<void> => {
    while (next < count && failure === undefined) {
      const index = next++;
      try {
        await task(index);
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(window, count)) }, worker));
  if (failure !== undefined) throw failure instanceof Error ? failure : new Error(JSON.stringify(failure));
}
