import { performance } from 'node:perf_hooks';

/** Something with a deadline that a {@link DeadlineQueue} expires unless it finished first. */
export interface Expirable {
  /** `performance.now()` at which it expires. */
  readonly expiresAt: number;
  /** True once it finished (the queue then drops it without calling {@link expire}). */
  readonly finished: boolean;
  /** Called once, when the deadline passed before it finished. */
  expire(): void;
}

/**
 * Deadlines that all share one duration (one handler timeout), kept with ONE timer instead of
 * one `setTimeout` per attempt. Entries are added in deadline order (same duration, monotonic
 * clock), so the queue is FIFO: the timer is armed for the oldest unfinished entry, and
 * finished entries are dropped from the head as soon as they get there. Adding and finishing
 * are O(1) amortised; nothing is allocated per entry beyond the caller's object.
 *
 * The timer is referenced only while unfinished entries wait (an idle queue never keeps the
 * process alive) and {@link dispose} clears it. Single event loop only.
 */
export class DeadlineQueue {
  readonly durationMs: number;
  #entries: (Expirable | undefined)[] = [];
  #head = 0;
  #timer: NodeJS.Timeout | undefined;
  #disposed = false;

  constructor(durationMs: number) {
    this.durationMs = durationMs;
  }

  /** The deadline of an entry added now. */
  deadlineFromNow(): number {
    return performance.now() + this.durationMs;
  }

  /** Watch `entry` (its `expiresAt` must not be earlier than any entry added before). */
  add(entry: Expirable): void {
    if (this.#disposed) return;
    this.#entries.push(entry);
    if (this.#timer === undefined) this.#arm(entry.expiresAt);
    else this.#timer.ref();
  }

  /** Call after an entry finished: drops finished entries from the head (lets the process exit when none is left). */
  prune(): void {
    if (this.#dropHead(Number.NEGATIVE_INFINITY, undefined)) this.#timer?.unref();
  }

  /** Stop watching: clears the timer; later {@link add} calls are ignored. Idempotent. */
  dispose(): void {
    this.#disposed = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#entries = [];
    this.#head = 0;
  }

  #arm(at: number): void {
    this.#timer = setTimeout(() => this.#fire(), Math.max(1, Math.ceil(at - performance.now())));
  }

  #fire(): void {
    this.#timer = undefined;
    const due: Expirable[] = [];
    if (!this.#dropHead(performance.now(), due))
      this.#arm((this.#entries[this.#head] as Expirable).expiresAt);
    for (const entry of due) entry.expire();
  }

  /**
   * Drop head entries that finished or (when `due` is given) expired by `now`, collecting the
   * expired ones into `due`; compacts the array. Returns true when the queue is now empty.
   */
  #dropHead(now: number, due: Expirable[] | undefined): boolean {
    const entries = this.#entries;
    let head = this.#head;
    while (head < entries.length) {
      const entry = entries[head] as Expirable;
      if (!entry.finished) {
        if (due === undefined || entry.expiresAt > now) break;
        due.push(entry);
      }
      entries[head] = undefined;
      head += 1;
    }
    if (head === entries.length) {
      entries.length = 0; // reuse the array: with fast handlers the queue empties on nearly every attempt
      this.#head = 0;
      return true;
    }
    if (head > 1024 && head * 2 > entries.length) {
      this.#entries = entries.slice(head);
      this.#head = 0;
    } else this.#head = head;
    return false;
  }
}
