import type { CommitOffset } from './kafka-client-port.js';
import type { PartitionWatermark } from './partition-watermark.js';

/** What {@link OffsetCommitter} needs: the current watermarks and a way to commit. */
export interface OffsetCommitterDeps {
  /** Watermarks of the partitions currently assigned (revoked ones are excluded). */
  watermarks(): Iterable<PartitionWatermark>;
  commit(offsets: readonly CommitOffset[]): Promise<void>;
}

const noop = (): void => undefined;

/**
 * Commits settled positions for one consumer. Commits are serialised (one request in flight)
 * and coalesced: a flush requested while one is in flight runs once after it, with the newest
 * positions, so positions only ever move forward and a burst of acks costs few requests.
 * A failed commit leaves the positions pending; the next flush retries them.
 */
export class OffsetCommitter {
  readonly #deps: OffsetCommitterDeps;
  #current: Promise<void> | undefined;
  #next: Promise<void> | undefined;

  constructor(deps: OffsetCommitterDeps) {
    this.#deps = deps;
  }

  /** Commit every pending position; resolves when a commit including the current state finished. */
  flush(): Promise<void> {
    if (this.#next !== undefined) return this.#next;
    if (this.#current === undefined) return this.#start();
    const next = this.#current.then(() => {
      this.#next = undefined;
      return this.#start();
    });
    this.#next = next;
    return next;
  }

  #start(): Promise<void> {
    const run = this.#commitPending();
    const current = run.then(noop, noop).then(() => {
      if (this.#current === current) this.#current = undefined;
    });
    this.#current = current;
    return run;
  }

  async #commitPending(): Promise<void> {
    const batch: { watermark: PartitionWatermark; offset: CommitOffset; startBound: string | undefined }[] =
      [];
    for (const watermark of this.#deps.watermarks()) {
      const pending = watermark.pendingCommit();
      if (pending === undefined) continue;
      batch.push({
        watermark,
        offset: {
          topic: watermark.topic,
          partition: watermark.partition,
          offset: pending.offset,
          metadata: pending.metadata,
        },
        startBound: pending.startBound,
      });
    }
    if (batch.length === 0) return;
    await this.#deps.commit(batch.map((b) => b.offset));
    for (const { watermark, offset, startBound } of batch) {
      watermark.markCommitted(offset.offset, offset.metadata ?? '', startBound);
    }
  }
}
