import type { BacklogReading } from '../transport/backlog.js';

/** Options of `EventBus.backlog()`. */
export interface BacklogOptions {
  /** Reuse a reading younger than this instead of asking the broker again. Default 5,000 ms. */
  readonly maxAgeMs?: number;
  /**
   * Wait at most this long for the broker. A group whose read takes longer is reported with its
   * previous reading (if any) and `error`; the read goes on in the background and refreshes the
   * cache when it lands. Default 2,000 ms.
   */
  readonly timeoutMs?: number;
}

/** The backlog of one subscription, as last read from the broker. */
export interface SubscriptionBacklog {
  /** The transport's registry name (e.g. `kafka`). */
  readonly transport: string;
  readonly destination: string;
  readonly group: string;
  /** The latest successful reading; absent when none succeeded yet. */
  readonly reading?: BacklogReading;
  /** When `reading` was taken. */
  readonly readAt?: Date;
  /** Why this call got no fresh reading (the broker's error or a timeout); absent when fresh. */
  readonly error?: string;
}

/** Reads one group's backlog from the broker. */
export type BacklogRead = (destination: string, group: string) => Promise<BacklogReading>;

interface Entry {
  reading?: BacklogReading;
  readAt: number;
  error?: string;
  inFlight?: Promise<void>;
}

const DEFAULT_MAX_AGE_MS = 5_000;
const DEFAULT_TIMEOUT_MS = 2_000;

/**
 * Caches backlog readings per group and bounds what one sample costs: at most one broker query
 * in flight per group (a slow broker never piles up requests), readings reused for `maxAgeMs`,
 * and a caller never waits longer than `timeoutMs`. Does nothing until {@link sample} is called.
 */
export class BacklogSampler {
  readonly #transport: string;
  readonly #read: BacklogRead;
  readonly #entries = new Map<string, Entry>();

  /** `transport`: its registry name, stamped on each result; `read`: one broker query. */
  constructor(transport: string, read: BacklogRead) {
    this.#transport = transport;
    this.#read = read;
  }

  /** The backlog of each `{destination, group}` (duplicates reported once). Never rejects. */
  async sample(
    targets: readonly { readonly destination: string; readonly group: string }[],
    options: BacklogOptions = {},
    now: () => number = Date.now,
  ): Promise<SubscriptionBacklog[]> {
    const maxAge = options.maxAgeMs ?? DEFAULT_MAX_AGE_MS;
    const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const unique = new Map<string, { destination: string; group: string }>();
    for (const t of targets) unique.set(`${t.destination}\u0000${t.group}`, t);
    const pending: Promise<void>[] = [];
    for (const [key, target] of unique) {
      let entry = this.#entries.get(key);
      if (entry === undefined) {
        entry = { readAt: 0 };
        this.#entries.set(key, entry);
      }
      if (entry.reading !== undefined && entry.error === undefined && now() - entry.readAt < maxAge) continue;
      entry.inFlight ??= this.#refresh(entry, target, now);
      pending.push(entry.inFlight);
    }
    const timedOut = await settleWithin(pending, timeout);
    return [...unique].map(([key, target]): SubscriptionBacklog => {
      const entry = this.#entries.get(key) as Entry;
      const error =
        entry.inFlight !== undefined && timedOut
          ? `no answer from the broker within ${String(timeout)} ms`
          : entry.error;
      return {
        transport: this.#transport,
        destination: target.destination,
        group: target.group,
        ...(entry.reading === undefined ? {} : { reading: entry.reading, readAt: new Date(entry.readAt) }),
        ...(error === undefined ? {} : { error }),
      };
    });
  }

  /** Forget groups that are not in `keep` (subscriptions that went away). */
  retain(keep: readonly { readonly destination: string; readonly group: string }[]): void {
    const keys = new Set(keep.map((t) => `${t.destination}\u0000${t.group}`));
    for (const key of this.#entries.keys()) if (!keys.has(key)) this.#entries.delete(key);
  }

  async #refresh(
    entry: Entry,
    target: { destination: string; group: string },
    now: () => number,
  ): Promise<void> {
    try {
      entry.reading = await this.#read(target.destination, target.group);
      entry.readAt = now();
      delete entry.error;
    } catch (error) {
      entry.error = error instanceof Error ? error.message : String(error);
    } finally {
      delete entry.inFlight;
    }
  }
}

/** Wait for every promise (they never reject) or `ms`; true when the time ran out first. */
async function settleWithin(pending: readonly Promise<void>[], ms: number): Promise<boolean> {
  if (pending.length === 0) return false;
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(true), ms);
    timer.unref();
  });
  try {
    return await Promise.race([Promise.all(pending).then(() => false), expired]);
  } finally {
    clearTimeout(timer);
  }
}
