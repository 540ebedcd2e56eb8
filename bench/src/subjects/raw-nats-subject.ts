import { randomUUID } from 'node:crypto';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  RetentionPolicy,
  StorageType,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JsMsg,
} from '@nats-io/jetstream';
import { decodePayload, encodePayload, type BenchPayload } from '../payload.js';
import type { Subject, SubjectFactory, SubjectSpec } from './subject.js';

/** Connection settings of the raw NATS subject. */
export interface NatsSettings {
  readonly url: string;
}

const CONSUMER = 'bench';

/**
 * The official JetStream client by hand with the framework's semantics: one file-storage stream
 * per run (limits retention, 2 min duplicate window) and one durable pull consumer with explicit
 * acks; each publish resolves on its PubAck (`Nats-Msg-Id` set); a separate consumer connection
 * pulls with `consume()` (buffer = concurrency), runs at most `concurrency` handlers and acks
 * each message after its handler resolved (a plain ack: the adapter confirms every ack).
 */
class RawNatsSubject implements Subject {
  readonly #spec: SubjectSpec;
  readonly #settings: NatsSettings;
  readonly #stream: string;
  readonly #subject: string;
  #producer: NatsConnection | undefined;
  #js: JetStreamClient | undefined;
  #consumerConnection: NatsConnection | undefined;
  #messages: ConsumerMessages | undefined;
  #loop: Promise<void> | undefined;

  constructor(spec: SubjectSpec, settings: NatsSettings) {
    this.#spec = spec;
    this.#settings = settings;
    this.#stream = `raw-bench_${spec.runId}`;
    this.#subject = `raw-bench.${spec.runId}`;
  }

  async open(): Promise<void> {
    this.#producer = await connect({ servers: this.#settings.url });
    const jsm = await jetstreamManager(this.#producer);
    await jsm.streams.add({
      name: this.#stream,
      subjects: [`${this.#subject}.>`],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: 120_000_000_000,
    });
    await jsm.consumers.add(this.#stream, {
      durable_name: CONSUMER,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ack_wait: 30_000_000_000,
    });
    this.#js = jetstream(this.#producer);
  }

  async publish(payload: BenchPayload): Promise<void> {
    await (this.#js as JetStreamClient).publish(`${this.#subject}.p0`, encodePayload(payload), {
      msgID: randomUUID(),
    });
  }

  async publishBatch(payloads: readonly BenchPayload[]): Promise<void> {
    await Promise.all(payloads.map((p) => this.publish(p)));
  }

  async startConsumer(): Promise<void> {
    this.#consumerConnection = await connect({ servers: this.#settings.url });
    const consumer = await jetstream(this.#consumerConnection).consumers.get(this.#stream, CONSUMER);
    const messages = await consumer.consume({ max_messages: this.#spec.concurrency });
    this.#messages = messages;
    this.#loop = this.#run(messages);
  }

  /** Take a message only while fewer than `concurrency` handlers run; ack each after its handler. */
  async #run(messages: ConsumerMessages): Promise<void> {
    let active = 0;
    let slotFreed: (() => void) | undefined;
    for await (const message of messages) {
      while (active >= this.#spec.concurrency) await new Promise<void>((resolve) => (slotFreed = resolve));
      active += 1;
      void this.#handle(message).finally(() => {
        active -= 1;
        slotFreed?.();
        slotFreed = undefined;
      });
    }
  }

  async #handle(message: JsMsg): Promise<void> {
    try {
      await this.#spec.onMessage(decodePayload(message.data));
      message.ack();
    } catch {
      message.nak();
    }
  }

  async close(): Promise<void> {
    await this.#messages?.close().catch(() => undefined);
    await this.#loop?.catch(() => undefined);
    await this.#consumerConnection?.close().catch(() => undefined);
    if (this.#producer !== undefined) {
      const jsm = await jetstreamManager(this.#producer).catch(() => undefined);
      await jsm?.streams.delete(this.#stream).catch(() => undefined);
      await this.#producer.close().catch(() => undefined);
    }
  }
}

/** The raw `@nats-io/jetstream` baseline (see {@link RawNatsSubject}). */
export function rawNatsFactory(settings: NatsSettings, clientVersion: string): SubjectFactory {
  return {
    kind: 'raw',
    label: `@nats-io/jetstream ${clientVersion}`,
    settings: {
      publish: 'js.publish with Nats-Msg-Id, resolve on PubAck',
      consume: 'own connection, consume() buffer = concurrency, plain ack after handler',
      storage: 'file stream, limits retention, 2 min duplicate window',
      codec: 'JSON',
    },
    create: (spec) => new RawNatsSubject(spec, settings),
  };
}
