import { envelopeFromWire, readDeadLetterInfo } from '@omnibus/core';
import type { DeadLetteredMessage } from '@omnibus/contract-tests';
import type { Consumer, Kafka } from 'kafkajs';
import { REMOVES_HEADER } from '../src/kafka-dead-letters.js';
import { KafkaNaming } from '../src/kafka-naming.js';
import { uniqueName } from './kafka-test-support.js';

interface Reader {
  readonly consumer: Consumer;
  readonly ready: Promise<void>;
  /** Dead letters read so far, with their `<partition>:<offset>`. */
  readonly buffer: { readonly at: string; readonly message: DeadLetteredMessage }[];
  /** Coordinates named by removal markers (the transport's dead-letter store removes that way). */
  readonly removed: Set<string>;
  /** The highest offset read per partition. */
  readonly seen: Map<number, bigint>;
}

/** Longest a read waits for the reader to reach the topic's end offsets of the moment. */
const CATCH_UP_MS = 15_000;

/**
 * Out-of-band dead-letter reader for the contract suite, with the native kafkajs client: one
 * consumer (own group, from the beginning) per dead-letter topic, kept running and buffering, so
 * "read and remove" means "take from the buffer". A read first catches up with the topic's end
 * offsets of that moment, and leaves out dead letters a removal marker (written by the
 * transport's dead-letter store) names. Close with {@link closeAll}.
 */
export class KafkaDeadLetterReader {
  readonly #kafka: Kafka;
  readonly #naming: KafkaNaming;
  readonly #readers = new Map<string, Reader>();

  constructor(kafka: Kafka, topicPrefix: string) {
    this.#kafka = kafka;
    this.#naming = new KafkaNaming({ topicPrefix, groupIdPrefix: topicPrefix });
  }

  async read(
    destination: string,
    group: string,
    count: number,
    timeoutMs: number,
  ): Promise<DeadLetteredMessage[]> {
    const deadline = Date.now() + timeoutMs;
    const topic = this.#naming.deadLetterTopic(destination, group);
    const reader = this.#reader(topic);
    await reader.ready;
    const ends = await this.#endOffsets(topic, deadline);
    const caughtUp = (): boolean =>
      [...ends].every(([partition, last]) => (reader.seen.get(partition) ?? -1n) >= last);
    const live = (): number => reader.buffer.filter((b) => !reader.removed.has(b.at)).length;
    const catchUpDeadline = Date.now() + CATCH_UP_MS;
    while (Date.now() < catchUpDeadline && (!caughtUp() || (live() < count && Date.now() < deadline))) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return reader.buffer
      .splice(0)
      .filter((b) => !reader.removed.has(b.at))
      .map((b) => b.message);
  }

  /**
   * partition → offset of its last record, for partitions that have records. Right after a
   * dead-letter topic is created (or a broker restarted) the cluster may still answer
   * NOT_LEADER_FOR_PARTITION or UNKNOWN_TOPIC_OR_PARTITION: errors kafkajs marks `retriable`
   * are asked again until the read's deadline, anything else fails the read at once.
   */
  async #endOffsets(topic: string, deadline: number): Promise<Map<number, bigint>> {
    const admin = this.#kafka.admin();
    await admin.connect();
    try {
      for (;;) {
        try {
          const ends = new Map<number, bigint>();
          for (const o of await admin.fetchTopicOffsets(topic)) {
            if (BigInt(o.high) > BigInt(o.low)) ends.set(o.partition, BigInt(o.high) - 1n);
          }
          return ends;
        } catch (error) {
          const retriable = (error as { retriable?: unknown }).retriable === true;
          if (!retriable || Date.now() >= deadline) throw error;
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
      }
    } finally {
      await admin.disconnect();
    }
  }

  async closeAll(): Promise<void> {
    const readers = [...this.#readers.values()];
    this.#readers.clear();
    await Promise.allSettled(readers.map((r) => r.consumer.disconnect()));
  }

  #reader(topic: string): Reader {
    const existing = this.#readers.get(topic);
    if (existing !== undefined) return existing;
    const consumer = this.#kafka.consumer({
      groupId: uniqueName('dlq-reader'),
      sessionTimeout: 6000,
      heartbeatInterval: 500,
      maxWaitTimeInMs: 100,
      allowAutoTopicCreation: false,
    });
    const buffer: Reader['buffer'][number][] = [];
    const removed = new Set<string>();
    const seen = new Map<number, bigint>();
    const ready = (async (): Promise<void> => {
      let joined!: () => void;
      const join = new Promise<void>((resolve) => {
        joined = resolve;
      });
      consumer.on(consumer.events.GROUP_JOIN, () => joined());
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ partition, message }) => {
          seen.set(partition, BigInt(message.offset));
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) {
            const last = Array.isArray(value) ? value[value.length - 1] : value;
            if (last !== undefined) headers[name] = last.toString();
          }
          const target = headers[REMOVES_HEADER];
          if (target !== undefined) removed.add(target);
          const info = readDeadLetterInfo(headers);
          if (info === undefined) return;
          const value = message.value ?? Buffer.alloc(0);
          buffer.push({
            at: `${String(partition)}:${message.offset}`,
            message: {
              envelope: envelopeFromWire({
                headers,
                payload: new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
              }),
              info,
            },
          });
        },
      });
      await join;
    })();
    const reader = { consumer, ready, buffer, removed, seen };
    this.#readers.set(topic, reader);
    return reader;
  }
}
