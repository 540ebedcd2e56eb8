import { payloadBytes, payloadFromBytes, type BenchPayload, type PayloadCodec } from '../payload.js';
import type { Subject, SubjectFactory, SubjectSpec } from './subject.js';

/** One queued message: an id for the ack bookkeeping, the attempt, and the encoded bytes. */
interface RawMessage {
  readonly id: number;
  readonly attempt: number;
  readonly body: Uint8Array;
}

/**
 * The in-process baseline: what a hand-written in-memory queue does with the same work as
 * Omnibus's in-memory path. Publish JSON-encodes (UTF-8 bytes, like Omnibus's JSON codec) and
 * enqueues; `concurrency` async workers take a message, record it in flight (ack bookkeeping:
 * a message leaves the in-flight table only after its handler resolved), decode it, await the
 * handler and ack. With the pass-through codec the prepared bytes travel instead and the
 * receiver reads `seq`/`t` from them (no JSON). No envelope, no router, no middleware.
 */
class RawMemorySubject implements Subject {
  readonly #spec: SubjectSpec;
  readonly #codec: PayloadCodec;
  readonly #encoder = new TextEncoder();
  readonly #decoder = new TextDecoder();
  readonly #inFlight = new Map<number, RawMessage>();
  #queue: (RawMessage | undefined)[] = [];
  #head = 0;
  #nextId = 0;
  #wake: (() => void)[] = [];
  #running = false;
  #workers: Promise<void>[] = [];

  constructor(spec: SubjectSpec) {
    this.#spec = spec;
    this.#codec = spec.codec ?? 'json';
  }

  open(): Promise<void> {
    return Promise.resolve();
  }

  publish(payload: BenchPayload): Promise<void> {
    this.#enqueue(payload);
    this.#wake.shift()?.();
    return Promise.resolve();
  }

  publishBatch(payloads: readonly BenchPayload[]): Promise<void> {
    for (const p of payloads) this.#enqueue(p);
    for (const wake of this.#wake.splice(0, payloads.length)) wake();
    return Promise.resolve();
  }

  #enqueue(payload: BenchPayload): void {
    const body = this.#codec === 'json' ? this.#encoder.encode(JSON.stringify(payload)) : payloadBytes(payload, this.#spec.sizeBytes ?? 1024);
    this.#nextId += 1;
    this.#queue.push({ id: this.#nextId, attempt: 1, body });
  }

  startConsumer(): Promise<void> {
    this.#running = true;
    for (let i = 0; i < this.#spec.concurrency; i++) this.#workers.push(this.#work());
    return Promise.resolve();
  }

  async #work(): Promise<void> {
    const handle = this.#spec.onMessage;
    while (this.#running) {
      if (this.#head >= this.#queue.length) {
        await new Promise<void>((resolve) => this.#wake.push(resolve));
        continue;
      }
      const message = this.#queue[this.#head] as RawMessage;
      this.#queue[this.#head] = undefined;
      this.#head += 1;
      if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      this.#inFlight.set(message.id, message);
      const payload = this.#codec === 'json' ? (JSON.parse(this.#decoder.decode(message.body)) as BenchPayload) : payloadFromBytes(message.body);
      await handle(payload);
      this.#inFlight.delete(message.id); // the ack
    }
  }

  async close(): Promise<void> {
    this.#running = false;
    for (const wake of this.#wake.splice(0)) wake();
    await Promise.all(this.#workers);
  }
}

/** The raw in-process baseline (see {@link RawMemorySubject}). */
export function rawMemoryFactory(): SubjectFactory {
  return {
    kind: 'raw',
    label: 'array queue + async workers (no framework)',
    settings: {
      ack: 'in-flight table; removed after the handler resolved',
      codec: 'JSON → UTF-8 bytes on publish, UTF-8 → JSON.parse on receive (pass-through variant: prepared bytes)',
    },
    create: (spec) => new RawMemorySubject(spec),
  };
}
