import type { OutgoingRecord, TopicRecords } from './kafka-client-port.js';

/** Rough per-record overhead on the wire (record header, varints), in bytes. */
const RECORD_OVERHEAD = 40;

interface Pending {
  readonly topic: string;
  readonly records: readonly OutgoingRecord[];
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface Chunk {
  /** Records per topic (one entry per topic: the client keys its request by topic). */
  readonly batches: Map<string, OutgoingRecord[]>;
  readonly owners: Set<Pending>;
}

/** Estimated size of a record on the wire. */
export function recordBytes(record: OutgoingRecord): number {
  let size =
    record.value.byteLength +
    RECORD_OVERHEAD +
    (record.key === undefined ? 0 : Buffer.byteLength(record.key));
  for (const [name, value] of Object.entries(record.headers))
    size += Buffer.byteLength(name) + Buffer.byteLength(value) + 4;
  return size;
}

/**
 * Coalesces concurrent publishes into few produce requests while resolving each publish only
 * once the broker acknowledged all of its records. One request is in flight at a time; the next
 * one carries every publish queued meanwhile (at least those of one tick); requests are split so none exceeds `maxRequestBytes` (a record larger than that is
 * sent alone), and sent one after another, so the records of one publish keep their order.
 * A failed request rejects every publish that had records in it; a publish never resolves
 * before all its records are acknowledged.
 */
export class PublishBatcher {
  readonly #send: (batches: readonly TopicRecords[]) => Promise<void>;
  readonly #maxRequestBytes: number;
  #queue: Pending[] = [];
  #scheduled = false;
  #tail: Promise<void> = Promise.resolve();

  constructor(send: (batches: readonly TopicRecords[]) => Promise<void>, maxRequestBytes: number) {
    this.#send = send;
    this.#maxRequestBytes = maxRequestBytes;
  }

  /** Queue records for `topic`; resolves when the broker acknowledged all of them. */
  publish(topic: string, records: readonly OutgoingRecord[]): Promise<void> {
    if (records.length === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ topic, records, resolve, reject });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#scheduled = false;
    const run = async (): Promise<void> => {
      // Taken when this send starts, not when it was scheduled: everything queued while the
      // previous request was in flight goes in this one.
      const pending = this.#queue;
      this.#queue = [];
      if (pending.length === 0) return;
      const chunks = this.#chunk(pending);
      const failed = new Map<Pending, unknown>();
      for (const chunk of chunks) {
        const owners = [...chunk.owners].filter((p) => !failed.has(p));
        if (owners.length === 0) continue;
        try {
          await this.#send([...chunk.batches].map(([topic, records]) => ({ topic, records })));
        } catch (error) {
          for (const owner of chunk.owners) failed.set(owner, error);
        }
      }
      for (const p of pending) {
        if (failed.has(p)) p.reject(failed.get(p));
        else p.resolve();
      }
    };
    this.#tail = this.#tail.then(run, run);
  }

  #chunk(pending: readonly Pending[]): Chunk[] {
    const chunks: Chunk[] = [];
    let current: Chunk = { batches: new Map(), owners: new Set() };
    let bytes = 0;
    for (const p of pending) {
      for (const record of p.records) {
        const size = recordBytes(record);
        if (bytes > 0 && bytes + size > this.#maxRequestBytes) {
          chunks.push(current);
          current = { batches: new Map(), owners: new Set() };
          bytes = 0;
        }
        const list = current.batches.get(p.topic);
        if (list === undefined) current.batches.set(p.topic, [record]);
        else list.push(record);
        current.owners.add(p);
        bytes += size;
      }
    }
    if (current.batches.size > 0) chunks.push(current);
    return chunks;
  }
}
