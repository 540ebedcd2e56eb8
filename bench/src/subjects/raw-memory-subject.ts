import type { BenchPayload } from '../payload.js';
import type { Subject, SubjectFactory, SubjectSpec } from './subject.js';

/**
 * The in-process baseline: a plain array queue with `concurrency` async workers that await the
 * handler and then drop the message (the "ack"). No envelope, no codec, no router — the least
 * an in-process bus can do with the same at-least-once shape (a message leaves the queue only
 * after its handler resolved).
 */
class RawMemorySubject implements Subject {
  readonly #spec: SubjectSpec;
  #queue: BenchPayload[] = [];
  #head = 0;
  #wake: (() => void)[] = [];
  #running = false;
  #workers: Promise<void>[] = [];

  constructor(spec: SubjectSpec) {
    this.#spec = spec;
  }

  open(): Promise<void> {
    return Promise.resolve();
  }

  publish(payload: BenchPayload): Promise<void> {
    this.#queue.push(payload);
    this.#wake.shift()?.();
    return Promise.resolve();
  }

  publishBatch(payloads: readonly BenchPayload[]): Promise<void> {
    for (const p of payloads) this.#queue.push(p);
    for (const wake of this.#wake.splice(0, payloads.length)) wake();
    return Promise.resolve();
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
      const payload = this.#queue[this.#head] as BenchPayload;
      this.#queue[this.#head] = undefined as unknown as BenchPayload;
      this.#head += 1;
      if (this.#head > 4096 && this.#head * 2 > this.#queue.length) {
        this.#queue = this.#queue.slice(this.#head);
        this.#head = 0;
      }
      await handle(payload);
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
    settings: { ack: 'after handler resolved', codec: 'none (object passed by reference)' },
    create: (spec) => new RawMemorySubject(spec),
  };
}
