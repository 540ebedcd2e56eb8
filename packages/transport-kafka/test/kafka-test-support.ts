import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import type { Admin, Consumer, Producer } from 'kafkajs';
import type { MessageEnvelope, OutgoingMessage } from '@omnibus/core';
import { KafkaTransport } from '../src/kafka-transport.js';

/** The broker started by `node scripts/brokers/cli.mjs up kafka`. */
export const BROKERS = [process.env['KAFKA_BROKERS'] ?? '127.0.0.1:9092'];

/**
 * Options tuned for a 1-node test cluster: fast heartbeats and fetches, short retry and delay
 * tiers, 2 partitions (so consumers can compete and rebalance). Session timeout at the broker's
 * minimum (group.min.session.timeout.ms = 6000).
 */
export const TEST_OPTIONS = {
  brokers: BROKERS,
  partitions: 2,
  sessionTimeoutMs: 6000,
  rebalanceTimeoutMs: 10000,
  heartbeatIntervalMs: 500,
  fetchMaxWaitMs: 250,
  retryTiersMs: [250, 1000, 5000],
  delayTiersMs: [1000, 5000, 30000],
  publishRetries: 8,
} as const;

/** A unique name fragment per test run. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A transport with {@link TEST_OPTIONS} and a topic/group prefix. */
export function testTransport(
  topicPrefix: string,
  extra: Readonly<Record<string, unknown>> = {},
): KafkaTransport {
  return new KafkaTransport({ ...TEST_OPTIONS, topicPrefix, ...extra });
}

/** A native kafkajs client for out-of-band checks. */
export function nativeKafka(clientId = 'omnibus-test'): Kafka {
  return new Kafka({ brokers: [...BROKERS], clientId, logLevel: logLevel.NOTHING });
}

let counter = 0;

/** A minimal envelope with a JSON payload. */
export function envelope(payload: unknown, extra: Partial<MessageEnvelope> = {}): MessageEnvelope {
  counter += 1;
  return {
    id: `m-${String(counter)}-${randomUUID().slice(0, 8)}`,
    type: 'test.event.v1',
    payload: new TextEncoder().encode(JSON.stringify(payload)),
    contentType: 'application/json',
    headers: {},
    occurredAt: new Date(),
    ...extra,
  };
}

/** Wrap envelopes as outgoing messages. */
export function outgoing(...envelopes: MessageEnvelope[]): OutgoingMessage[] {
  return envelopes.map((e) => ({ envelope: e }));
}

/** Reads all records of a topic from the beginning with a throw-away group. */
export async function readTopic(
  kafka: Kafka,
  topic: string,
  count: number,
  timeoutMs = 20000,
): Promise<
  {
    key: string | null;
    value: Buffer | null;
    headers: Record<string, string>;
    partition: number;
    offset: string;
  }[]
> {
  const consumer: Consumer = kafka.consumer({
    groupId: uniqueName('reader'),
    sessionTimeout: 6000,
    heartbeatInterval: 500,
    maxWaitTimeInMs: 250,
  });
  const out: {
    key: string | null;
    value: Buffer | null;
    headers: Record<string, string>;
    partition: number;
    offset: string;
  }[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    let done!: () => void;
    const finished = new Promise<void>((resolve) => {
      done = resolve;
    });
    await consumer.run({
      eachMessage: async ({ message, partition }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {}))
          if (v !== undefined) headers[k] = v.toString();
        out.push({
          key: message.key?.toString() ?? null,
          value: message.value,
          headers,
          partition,
          offset: message.offset,
        });
        if (out.length >= count) done();
      },
    });
    const timer = setTimeout(done, timeoutMs);
    await finished;
    clearTimeout(timer);
  } finally {
    await consumer.disconnect();
  }
  return out;
}

/** A connected native admin (disconnect it when done). */
export async function nativeAdmin(kafka: Kafka): Promise<Admin> {
  const admin = kafka.admin();
  await admin.connect();
  return admin;
}

/** A connected native producer (disconnect it when done). */
export async function nativeProducer(kafka: Kafka): Promise<Producer> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  return producer;
}

/** Environment variable carrying the contract run's topic prefix to the SIGKILL child process. */
export const CONTRACT_PREFIX_ENV = 'OMNIBUS_KAFKA_CONTRACT_PREFIX';
