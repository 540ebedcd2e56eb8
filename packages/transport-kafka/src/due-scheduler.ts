/** Callbacks of {@link DueScheduler}. */
export interface DueSchedulerOptions<T> {
  /** Most records held at once per partition before that partition is paused. */
  readonly maxHeldPerPartition: number;
  /** Called with an item once it is due. */
  readonly onDue: (item: T) => void;
  /** Stop fetching `partitionKey` (too many held records). */
  readonly pause: (partitionKey: string) => void;
  /** Fetch `partitionKey` again (held records drained to half the limit). */
  readonly resume: (partitionKey: string) => void;
}

interface Held<T> {
  readonly item: T;
  readonly timer: NodeJS.Timeout;
}

/**
 * Holds records fetched from delay and retry topics until their due time, each on its own timer
 * (a later record due sooner is not blocked behind an earlier one). Bounded memory: a partition
 * with too many held records is paused until they drain. Held records stay unsettled, so their
 * offsets are not committed while they wait: a crash or rebalance hands them to the next owner,
 * which waits for the same (absolute) due time.
 *
 * Single event loop; not thread-safe. `dropPartition`/`clear` cancel timers without delivering.
 */
export class DueScheduler<T> {
  readonly #options: DueSchedulerOptions<T>;
  readonly #held = new Map<string, Set<Held<T>>>();
  readonly #paused = new Set<string>();

  constructor(options: DueSchedulerOptions<T>) {
    this.#options = options;
  }

  /** Records currently held. */
  get size(): number {
    let n = 0;
    for (const set of this.#held.values()) n += set.size;
    return n;
  }

  /** Hold `item` of `partitionKey` until `dueAt` (epoch ms), then hand it to `onDue`. */
  hold(partitionKey: string, item: T, dueAt: number): void {
    const set = this.#held.get(partitionKey) ?? new Set<Held<T>>();
    this.#held.set(partitionKey, set);
    const entry: Held<T> = {
      item,
      timer: setTimeout(
        () => {
          set.delete(entry);
          this.#maybeResume(partitionKey, set.size);
          this.#options.onDue(item);
        },
        Math.max(0, dueAt - Date.now()),
      ),
    };
    set.add(entry);
    if (set.size >= this.#options.maxHeldPerPartition && !this.#paused.has(partitionKey)) {
      this.#paused.add(partitionKey);
      this.#options.pause(partitionKey);
    }
  }

  /** True when the partition is paused because too many records are held. */
  isPaused(partitionKey: string): boolean {
    return this.#paused.has(partitionKey);
  }

  /** Cancel the held records of a revoked partition (they are redelivered to its new owner). */
  dropPartition(partitionKey: string): void {
    for (const entry of this.#held.get(partitionKey) ?? []) clearTimeout(entry.timer);
    this.#held.delete(partitionKey);
    this.#paused.delete(partitionKey);
  }

  /** Cancel everything (subscription closing). */
  clear(): void {
    for (const key of [...this.#held.keys()]) this.dropPartition(key);
  }

  #maybeResume(partitionKey: string, size: number): void {
    if (this.#paused.has(partitionKey) && size <= this.#options.maxHeldPerPartition / 2) {
      this.#paused.delete(partitionKey);
      this.#options.resume(partitionKey);
    }
  }
}
