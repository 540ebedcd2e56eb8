/**
 * A record offset: the decimal string kafkajs hands out, or the same value already parsed (the
 * subscription parses each record's offset once and passes the bigint to every call).
 */
export type Offset = string | bigint;

function big(offset: Offset): bigint {
  return typeof offset === 'bigint' ? offset : BigInt(offset);
}

/** Largest commit metadata written, in bytes (the broker default limit is 4096). */
const MAX_METADATA_BYTES = 3500;

/**
 * Settlement bookkeeping of one assigned topic-partition, the heart of at-least-once on Kafka:
 * offsets are tracked in fetch order, settled in any order, and the commit position only ever
 * moves to one past the last record of the *contiguous* settled prefix. A later offset is
 * therefore never committed before an earlier one is settled.
 *
 * It also remembers the highest offset taken into custody, so records fetched again after a
 * re-join (kafkajs rewinds to the committed offset) are recognised and not handled twice, and the
 * attempt number each unsettled record was last started with. Those are committed as offset
 * metadata, so the next owner of the partition (after a close, crash or rebalance) continues
 * with the next attempt number: `deliveryAttempt` survives restarts although Kafka keeps no
 * delivery count. Besides the exact attempts (`a`), the metadata carries a *start bound* (`s`):
 * every record up to it may have started its first attempt in this process. The bound is
 * committed once per fetched batch before any of its records starts, so a crash mid-handler
 * is counted without a commit before each handler; the next owner delivers records up to the
 * bound with one more than their header attempt. A clean close commits exact attempts only
 * ({@link precise}), so unstarted records keep their count.
 *
 * Single-threaded (one event loop); not shared between consumers. A watermark is discarded when
 * its partition is revoked: late settlements on it are then ignored by the committer.
 */
export class PartitionWatermark {
  readonly topic: string;
  readonly partition: number;
  /** Offsets in custody and not yet part of the committed prefix, ascending. */
  readonly #queue: bigint[] = [];
  #head = 0;
  readonly #settled = new Set<bigint>();
  readonly #attempts = new Map<bigint, number>();
  #seededAttempts = new Map<bigint, number>();
  #seededStartBound: bigint | undefined;
  /** Highest offset that may have started in this process (the start bound), if any. */
  #startBound: bigint | undefined;
  #committedStartBound: bigint | undefined;
  /** First offset of the first planned batch: the commit position while nothing is in custody. */
  #floor: bigint | undefined;
  #precise = false;
  #maxSeen: bigint | undefined;
  #position: bigint | undefined;
  #committedPosition: bigint | undefined;
  #committedMetadata = '';
  #revoked = false;

  constructor(topic: string, partition: number) {
    this.topic = topic;
    this.partition = partition;
  }

  /** Set when the partition was revoked (or the subscription closed): no more commits for it. */
  get revoked(): boolean {
    return this.#revoked;
  }

  revoke(): void {
    this.#revoked = true;
  }

  /** True when `offset` was already taken into custody (re-fetched after a re-join). */
  seen(offset: Offset): boolean {
    return this.#maxSeen !== undefined && big(offset) <= this.#maxSeen;
  }

  /** Take `offset` into custody. Offsets must arrive ascending; returns false for a re-fetched one. */
  track(offset: Offset): boolean {
    const value = big(offset);
    if (this.#maxSeen !== undefined && value <= this.#maxSeen) return false;
    this.#maxSeen = value;
    this.#queue.push(value);
    return true;
  }

  /** Mark `offset` settled. Returns true when the commit position advanced. Idempotent. */
  settle(offset: Offset): boolean {
    const value = big(offset);
    this.#attempts.delete(value);
    if (this.#seededAttempts.size > 0) this.#seededAttempts.delete(value);
    if (this.#position !== undefined && value < this.#position) return false;
    let advanced = false;
    if (this.#queue[this.#head] === value) {
      // In-order settlement (the common case): advance without touching the settled set.
      this.#head += 1;
      this.#position = value + 1n;
      advanced = true;
    } else {
      this.#settled.add(value);
    }
    while (this.#settled.size > 0 && this.#head < this.#queue.length) {
      const first = this.#queue[this.#head] as bigint;
      if (!this.#settled.has(first)) break;
      this.#settled.delete(first);
      this.#head += 1;
      this.#position = first + 1n;
      advanced = true;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue.splice(0, this.#head);
      this.#head = 0;
    }
    return advanced;
  }

  /** True when `offset` is inside the settled prefix (its commit is covered by {@link position}). */
  covers(offset: Offset): boolean {
    return this.#position !== undefined && big(offset) < this.#position;
  }

  /** One past the last record of the settled prefix, or undefined when nothing settled yet. */
  get position(): string | undefined {
    return this.#position === undefined ? undefined : this.#position.toString();
  }

  /** Remember that the record at `offset` is being handled as attempt `attempt`. */
  noteStarted(offset: Offset, attempt: number): void {
    this.#attempts.set(big(offset), attempt);
  }

  /**
   * The attempt a record with header attempt `headerAttempt` must at least be delivered with,
   * from the committed metadata of a previous owner: one more than the attempt it last started
   * there; one more than its header attempt when it lies within the previous owner's start
   * bound; else its header attempt.
   */
  seededNextAttempt(offset: Offset, headerAttempt = 1): number {
    const value = big(offset);
    const exact = this.#seededAttempts.get(value);
    if (exact !== undefined) return Math.max(headerAttempt, exact + 1);
    const bound = this.#seededStartBound;
    return bound !== undefined && value <= bound ? headerAttempt + 1 : headerAttempt;
  }

  /** Seed from the group's committed metadata, when the partition is (re)assigned. */
  seed(metadata: string | undefined): void {
    const parsed = parseMetadata(metadata);
    this.#seededAttempts = parsed.attempts;
    this.#seededStartBound = parsed.startBound;
  }

  /**
   * Records up to `lastOffset` (of a fetched batch starting at `firstOffset`) are about to be
   * handed to handlers: raise the start bound. Returns true when the committed metadata does
   * not cover them yet (a commit must finish before the first of them starts).
   */
  planStarts(firstOffset: Offset, lastOffset: Offset): boolean {
    const last = big(lastOffset);
    this.#floor ??= big(firstOffset);
    if (this.#startBound === undefined || last > this.#startBound) this.#startBound = last;
    return !this.startCommitted(lastOffset);
  }

  /** True when a committed start bound covers `offset`. */
  startCommitted(offset: Offset): boolean {
    return this.#committedStartBound !== undefined && big(offset) <= this.#committedStartBound;
  }

  /**
   * From now on commit exact attempts only, without the start bound (a clean close: every record
   * that started is known exactly, the others keep their attempt for the next owner).
   */
  precise(): void {
    this.#precise = true;
  }

  /**
   * Metadata to commit: the started attempt of every unsettled record (lowest offsets first,
   * bounded in size; records beyond the bound restart their count after a crash), and the start
   * bound unless {@link precise}.
   */
  metadata(): string {
    const s = this.#boundToCommit();
    if (this.#attempts.size === 0 && s === undefined) return '';
    const head = s === undefined ? {} : { s: s.toString() };
    const entries = [...this.#attempts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    let json = JSON.stringify(head);
    for (let n = entries.length; n > 0; n -= 1) {
      json = JSON.stringify({
        ...head,
        a: Object.fromEntries(entries.slice(0, n).map(([o, a]) => [o.toString(), a])),
      });
      if (json.length <= MAX_METADATA_BYTES) return json;
    }
    return s === undefined ? '' : JSON.stringify(head);
  }

  /**
   * What to commit now, or undefined when the committed state is current. With nothing settled
   * yet, only metadata changes are committed (at the lowest offset in custody, or the first
   * planned offset while nothing is in custody).
   */
  pendingCommit(): { offset: string; metadata: string; startBound?: string } | undefined {
    if (this.#revoked) return undefined;
    const metadata = this.metadata();
    const position = this.#position ?? this.#queue[this.#head] ?? this.#floor;
    if (position === undefined) return undefined;
    if (position === this.#committedPosition && metadata === this.#committedMetadata) return undefined;
    // Nothing settled and nothing to record: commit only to overwrite metadata committed earlier
    // (a clean close replacing a start bound over records that never started, which would
    // otherwise count them as started for the next owner).
    if (this.#position === undefined && metadata === '' && this.#committedMetadata === '') return undefined;
    const bound = this.#boundToCommit();
    return {
      offset: position.toString(),
      metadata,
      ...(bound === undefined ? {} : { startBound: bound.toString() }),
    };
  }

  /** The start bound to commit: none when precise, or when every record up to it is settled. */
  #boundToCommit(): bigint | undefined {
    const bound = this.#precise ? undefined : this.#startBound;
    if (bound === undefined || (this.#position !== undefined && bound < this.#position)) return undefined;
    return bound;
  }

  /** Record a successful commit (`startBound`: the start bound it carried, if any). */
  markCommitted(offset: string, metadata: string, startBound?: string): void {
    const value = BigInt(offset);
    if (this.#committedPosition === undefined || value >= this.#committedPosition) {
      this.#committedPosition = value;
      this.#committedMetadata = metadata;
    }
    if (startBound !== undefined) {
      const bound = BigInt(startBound);
      if (this.#committedStartBound === undefined || bound > this.#committedStartBound) {
        this.#committedStartBound = bound;
      }
    }
  }

  /** Forget what was committed (after a re-join), so the next flush commits the position again. */
  forgetCommitted(): void {
    this.#committedPosition = undefined;
    this.#committedMetadata = '';
    this.#committedStartBound = undefined;
  }
}

function parseMetadata(metadata: string | undefined): {
  attempts: Map<bigint, number>;
  startBound: bigint | undefined;
} {
  const attempts = new Map<bigint, number>();
  let startBound: bigint | undefined;
  if (metadata === undefined || metadata === '') return { attempts, startBound };
  try {
    const parsed = JSON.parse(metadata) as { a?: Record<string, unknown>; s?: unknown };
    for (const [offset, attempt] of Object.entries(parsed.a ?? {})) {
      if (/^\d+$/.test(offset) && typeof attempt === 'number' && Number.isInteger(attempt) && attempt >= 1) {
        attempts.set(BigInt(offset), attempt);
      }
    }
    if (typeof parsed.s === 'string' && /^\d+$/.test(parsed.s)) startBound = BigInt(parsed.s);
  } catch {
    // Metadata written by someone else: ignore it.
  }
  return { attempts, startBound };
}
