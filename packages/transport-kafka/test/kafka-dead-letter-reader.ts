import { envelopeFromWire, readDeadLetterInfo } from '@omnibus/core';
import type { DeadLetteredMessage } from '@omnibus/contract-tests';
import type { Consumer, Kafka } from 'kafkajs';
import { KafkaNaming } from '../src/kafka-naming.js';
import { uniqueName } from './kafka-test-support.js';

interface Reader {
  readonly consumer: Consumer;
  readonly ready: Promise<void>;
  readonly buffer: DeadLetteredMessage[];
}

/**
 * Out-of-band dead-letter reader for the contract suite, with the native kafkajs client: one
 * consumer (own group, from the beginning) per dead-letter topic, kept running and buffering, so
 * "read and remove" means "take from the buffer". Close with {@link closeAll}.
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
    const reader = this.#reader(this.#naming.deadLetterTopic(destination, group));
    await reader.ready;
    while (reader.buffer.length < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return reader.buffer.splice(0);
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
    const buffer: DeadLetteredMessage[] = [];
    const ready = (async (): Promise<void> => {
      let joined!: () => void;
      const join = new Promise<void>((resolve) => {
        joined = resolve;
      });
      consumer.on(consumer.events.GROUP_JOIN, () => joined());
      await consumer.connect();
      await consumer.subscribe({ topics: [topic], fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          const headers: Record<string, string> = {};
          for (const [name, value] of Object.entries(message.headers ?? {})) {
            const last = Array.isArray(value) ? value[value.length - 1] : value;
            if (last !== undefined) headers[name] = last.toString();
          }
          const info = readDeadLetterInfo(headers);
          if (info === undefined) return;
          const value = message.value ?? Buffer.alloc(0);
          buffer.push({
            envelope: envelopeFromWire({
              headers,
              payload: new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
            }),
            info,
          });
        },
      });
      await join;
    })();
    const reader = { consumer, ready, buffer };
    this.#readers.set(topic, reader);
    return reader;
  }
}
