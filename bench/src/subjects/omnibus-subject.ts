import 'reflect-metadata';
import {
  createEventBus,
  defineEvent,
  EventHandler,
  type Codec,
  type EventBus,
  type EventDefinition,
  type Transport,
} from '@omnibus/core';
import { payloadBytes, payloadFromBytes, type BenchPayload } from '../payload.js';
import type { Subject, SubjectFactory, SubjectSpec } from './subject.js';

/** How the Omnibus subject reaches one transport. */
export interface OmnibusTransportBinding {
  /** A fresh, unconnected transport for `runId` (each bus gets its own, like separate processes would). */
  createTransport(runId: string): Transport;
  /** Delete what the run provisioned (best effort). */
  cleanup?(runId: string, destination: string, group: string): Promise<void>;
}

/** The group every benchmark handler consumes in. */
export const BENCH_GROUP = 'bench';

/** Event name of one run; its destination is the same string. */
export function benchEventName(runId: string): string {
  return `bench.${runId}`;
}

/**
 * The pass-through codec of the ceiling runs: the payload already is bytes, so encode and decode
 * hand them over unchanged (what is left is the framework's own cost).
 */
const passThroughCodec: Codec = {
  contentType: 'application/x-omnibus-bench-bytes',
  encode: (value) => value as Uint8Array,
  decode: (bytes) => bytes,
};

/** A handler class whose only method is an `@EventHandler` for `event` calling `onMessage`. */
function handlerClass(event: EventDefinition<BenchPayload>, spec: SubjectSpec): new () => object {
  const { onMessage } = spec;
  const passThrough = spec.codec === 'pass-through';
  class BenchHandler {
    @EventHandler(event, { group: BENCH_GROUP, concurrency: spec.concurrency })
    handle(payload: BenchPayload): void | Promise<void> {
      return onMessage(passThrough ? payloadFromBytes(payload as unknown as Uint8Array) : payload);
    }
  }
  return BenchHandler;
}

class OmnibusSubject implements Subject {
  readonly #binding: OmnibusTransportBinding;
  readonly #spec: SubjectSpec;
  readonly #event: EventDefinition<BenchPayload>;
  #publisher: EventBus | undefined;
  #consumer: EventBus | undefined;

  constructor(binding: OmnibusTransportBinding, spec: SubjectSpec) {
    this.#binding = binding;
    this.#spec = spec;
    this.#event = defineEvent<BenchPayload>(benchEventName(spec.runId));
  }

  async open(): Promise<void> {
    // Provision the consumer group first, so messages published before the consumer starts are kept.
    const provisioner = this.#binding.createTransport(this.#spec.runId);
    try {
      await provisioner.connect();
      await provisioner.provision({
        destinations: [{ name: this.#event.name, groups: [{ name: BENCH_GROUP, ordered: false }] }],
      });
    } finally {
      await provisioner.close(0);
    }
    this.#publisher = createEventBus({ transport: this.#binding.createTransport(this.#spec.runId), events: [this.#event], ...this.#codec() });
    await this.#publisher.start();
  }

  #codec(): { codec?: Codec } {
    return this.#spec.codec === 'pass-through' ? { codec: passThroughCodec } : {};
  }

  #wire(payload: BenchPayload): BenchPayload {
    return this.#spec.codec === 'pass-through' ? (payloadBytes(payload, this.#spec.sizeBytes ?? 1024) as unknown as BenchPayload) : payload;
  }

  async publish(payload: BenchPayload): Promise<void> {
    await (this.#publisher as EventBus).publish(this.#event, this.#wire(payload));
  }

  async publishBatch(payloads: readonly BenchPayload[]): Promise<void> {
    await (this.#publisher as EventBus).publishBatch(this.#event, this.#spec.codec === 'pass-through' ? payloads.map((p) => this.#wire(p)) : payloads);
  }

  async startConsumer(): Promise<void> {
    this.#consumer = createEventBus({
      transport: this.#binding.createTransport(this.#spec.runId),
      handlers: [handlerClass(this.#event, this.#spec)],
      events: [this.#event],
      ...this.#codec(),
    });
    await this.#consumer.start();
  }

  async close(): Promise<void> {
    await this.#consumer?.stop({ drainTimeoutMs: 5000 });
    await this.#publisher?.stop({ drainTimeoutMs: 5000 });
    await this.#binding.cleanup?.(this.#spec.runId, this.#event.name, BENCH_GROUP).catch(() => undefined);
  }
}

/** Subjects that run the framework path: `bus.publish` → transport → `@EventHandler` → ack. */
export function omnibusFactory(binding: OmnibusTransportBinding, label: string, settings: Record<string, unknown>, maxBatch?: number): SubjectFactory {
  return {
    kind: 'omnibus',
    label,
    settings,
    ...(maxBatch === undefined ? {} : { maxBatch }),
    create: (spec) => new OmnibusSubject(binding, spec),
  };
}
