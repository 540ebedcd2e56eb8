import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type Producer } from 'kafkajs';
import { Semaphore } from '../async-utils.js';
import { decodePayload, encodePayload, type BenchPayload } from '../payload.js';
import type { Subject, SubjectFactory, SubjectSpec } from './subject.js';

/** Broker settings of the raw Kafka subject. */
export interface KafkaSettings {
  readonly brokers: readonly string[];
  readonly partitions: number;
  readonly fetchMaxWaitMs: number;
}

/** kafkajs client with logging off. */
export function benchKafka(brokers: readonly string[], clientId: string): Kafka {
  return new Kafka({ brokers: [...brokers], clientId, logLevel: logLevel.NOTHING });
}

type KafkaMessage = { value: Buffer; headers: Record<string, string> };

/**
 * What a kafkajs user writes to publish from many callers: messages queue while a `send` is in
 * flight and the next `send` takes everything queued, so concurrent publishes share requests
 * (kafkajs itself sends one request per `send` call and has no linger). Each caller resolves
 * once the broker acknowledged the request carrying its messages.
 */
class QueuedSender {
  readonly #send: (messages: KafkaMessage[]) => Promise<unknown>;
  #queue: { messages: KafkaMessage[]; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #sending = false;

  constructor(send: (messages: KafkaMessage[]) => Promise<unknown>) {
    this.#send = send;
  }

  send(messages: KafkaMessage[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#queue.push({ messages, resolve, reject });
      if (!this.#sending) void this.#pump();
    });
  }

  async #pump(): Promise<void> {
    this.#sending = true;
    while (this.#queue.length > 0) {
      const taken = this.#queue;
      this.#queue = [];
      try {
        await this.#send(taken.flatMap((t) => t.messages));
        for (const t of taken) t.resolve();
      } catch (error) {
        for (const t of taken) t.reject(error);
      }
    }
    this.#sending = false;
  }
}

/**
 * kafkajs by hand with the framework's semantics: an idempotent producer sending with acks = -1
 * (publishes queued while a `send` is in flight go together in the next one, see
 * {@link QueuedSender}), a consumer in
 * its own group reading from the beginning with `eachBatch`, `partitionsConsumedConcurrently`
 * as the framework derives it (min(8, max(2, concurrency))), handlers limited to `concurrency`
 * across partitions, and the batch's offset committed only after all its handlers resolved
 * (autoCommit off).
 */
class RawKafkaSubject implements Subject {
  readonly #spec: SubjectSpec;
  readonly #settings: KafkaSettings;
  readonly #topic: string;
  readonly #kafka: Kafka;
  #admin: Admin | undefined;
  #producer: Producer | undefined;
  #sender: QueuedSender | undefined;
  #consumer: Consumer | undefined;

  constructor(spec: SubjectSpec, settings: KafkaSettings) {
    this.#spec = spec;
    this.#settings = settings;
    this.#topic = `raw-bench.${spec.runId}`;
    this.#kafka = benchKafka(settings.brokers, 'raw-bench');
  }

  async open(): Promise<void> {
    this.#admin = this.#kafka.admin();
    await this.#admin.connect();
    await this.#admin.createTopics({
      waitForLeaders: true,
      topics: [{ topic: this.#topic, numPartitions: this.#settings.partitions, replicationFactor: 1 }],
    });
    this.#producer = this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    await this.#producer.connect();
    const producer = this.#producer;
    this.#sender = new QueuedSender((messages) => producer.send({ topic: this.#topic, acks: -1, messages }));
  }

  async publish(payload: BenchPayload): Promise<void> {
    await this.publishBatch([payload]);
  }

  async publishBatch(payloads: readonly BenchPayload[]): Promise<void> {
    await (this.#sender as QueuedSender).send(
      payloads.map((p) => ({ value: encodePayload(p), headers: { 'message-id': randomUUID() } })),
    );
  }

  async startConsumer(): Promise<void> {
    const consumer = this.#kafka.consumer({
      groupId: `raw-bench.${this.#spec.runId}`,
      maxWaitTimeInMs: this.#settings.fetchMaxWaitMs,
      allowAutoTopicCreation: false,
    });
    this.#consumer = consumer;
    const limit = new Semaphore(this.#spec.concurrency);
    const handle = this.#spec.onMessage;
    let joined!: () => void;
    const firstJoin = new Promise<void>((resolve) => {
      joined = resolve;
    });
    consumer.on(consumer.events.GROUP_JOIN, () => joined());
    await consumer.connect();
    await consumer.subscribe({ topics: [this.#topic], fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: Math.min(8, Math.max(2, this.#spec.concurrency)),
      eachBatch: async (payload) => {
        const { batch } = payload;
        const running: Promise<void>[] = [];
        for (const message of batch.messages) {
          if (!payload.isRunning() || payload.isStale()) break;
          await limit.acquire();
          running.push(
            (async () => {
              try {
                await handle(decodePayload(message.value ?? Buffer.alloc(0)));
              } finally {
                limit.release();
              }
            })(),
          );
        }
        await Promise.all(running);
        const last = batch.messages[running.length - 1];
        if (last === undefined) return;
        await consumer.commitOffsets([
          { topic: batch.topic, partition: batch.partition, offset: (BigInt(last.offset) + 1n).toString() },
        ]);
      },
    });
    await firstJoin;
  }

  async close(): Promise<void> {
    await this.#consumer?.disconnect().catch(() => undefined);
    await this.#producer?.disconnect().catch(() => undefined);
    await this.#admin?.deleteTopics({ topics: [this.#topic] }).catch(() => undefined);
    await this.#admin?.disconnect().catch(() => undefined);
  }
}

/** Delete every topic whose name contains `runId` (best effort). */
export async function deleteKafkaTopics(brokers: readonly string[], runId: string): Promise<void> {
  const admin = benchKafka(brokers, 'bench-cleanup').admin();
  await admin.connect();
  try {
    const topics = (await admin.listTopics()).filter((t) => t.includes(runId));
    if (topics.length > 0) await admin.deleteTopics({ topics });
  } catch {
    // best effort
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

/** The raw kafkajs baseline (see {@link RawKafkaSubject}). */
export function rawKafkaFactory(settings: KafkaSettings, kafkajsVersion: string): SubjectFactory {
  return {
    kind: 'raw',
    label: `kafkajs ${kafkajsVersion}`,
    settings: {
      partitions: settings.partitions,
      producer:
        'idempotent, maxInFlightRequests 5, acks -1, publishes queued while a send is in flight go in the next send',
      consumer: `eachBatch, partitionsConsumedConcurrently min(8, max(2, concurrency)), maxWaitTimeInMs ${String(settings.fetchMaxWaitMs)}, commit after handlers`,
      codec: 'JSON',
    },
    create: (spec) => new RawKafkaSubject(spec, settings),
  };
}
