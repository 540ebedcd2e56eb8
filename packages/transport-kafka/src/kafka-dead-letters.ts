import { randomUUID } from 'node:crypto';
import { ErrorCodes, OmnibusError, WireHeaders, cursorDeadLetterStore } from '@omnibus/core';
import type { DeadLetterCursor, DeadLetterStore, ScannedDeadLetter } from '@omnibus/core';
import type { ConsumerConfig, KafkaClientPort, OutgoingRecord, ReceivedRecord } from './kafka-client-port.js';
import type { KafkaNaming } from './kafka-naming.js';

/**
 * Header of a removal marker on a dead-letter topic: the `<partition>:<offset>` of the dead
 * letter it removes. Markers carry no dead-letter headers, so readers of the topic that look for
 * dead letters skip them.
 */
export const REMOVES_HEADER = 'omnibus-dead-letter-removes';

/** Consumer tuning a scan's throwaway consumer uses. */
export type ScanTuning = Pick<
  ConsumerConfig,
  'sessionTimeoutMs' | 'rebalanceTimeoutMs' | 'heartbeatIntervalMs' | 'maxWaitTimeMs'
>;

/** What {@link kafkaDeadLetterStore} needs from the transport. */
export interface KafkaDeadLetterDeps {
  readonly client: KafkaClientPort;
  readonly naming: KafkaNaming;
  /** The group retry tiers; a replay goes to the group's first retry topic. */
  readonly retryTiersMs: readonly number[];
  readonly tuning: ScanTuning;
  /** Longest a scan may take to read a dead-letter topic to its end. */
  readonly scanTimeoutMs: number;
  /** Connect the transport (idempotent). */
  connect(): Promise<void>;
  /** Reject with `code` when a topic does not exist (never creates it). */
  requireTopics(names: readonly string[], what: string): Promise<void>;
  /** Produce with acks = all; resolves once the broker acknowledged. */
  publish(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
}

/**
 * Dead letters of a Kafka group live in its topic `<topic>.<group>.dlq` (append-only). A pass
 * reads that topic from its earliest record to the end it had when the pass started, with a
 * throwaway consumer group (deleted afterwards). Kafka cannot delete one record, so removing a
 * dead letter appends a **removal marker** (header {@link REMOVES_HEADER}) to the same topic;
 * later passes skip removed records and the markers. A replay produces the copy to the group's
 * first retry topic, which only that group consumes (due at once), then appends the marker.
 * Ordered groups have no retry topic: replaying their dead letters rejects with
 * `DEAD_LETTER_FAILED`. The records of a pass are held in memory.
 */
export function kafkaDeadLetterStore(deps: KafkaDeadLetterDeps): DeadLetterStore {
  return cursorDeadLetterStore({
    async open(destination, group): Promise<DeadLetterCursor> {
      await deps.connect();
      const topic = deps.naming.deadLetterTopic(destination, group);
      await deps.requireTopics([topic], `Dead letters of ${destination}/${group}`);
      const records = await readToEnd(deps, topic);
      const removed = new Set<string>();
      for (const r of records) {
        const target = r.headers[REMOVES_HEADER];
        if (target !== undefined) removed.add(target);
      }
      const pending = records.filter(
        (r) => r.headers[REMOVES_HEADER] === undefined && !removed.has(coordinates(r)),
      );
      let index = 0;
      return {
        next(): Promise<ScannedDeadLetter | undefined> {
          const record = pending[index];
          index += 1;
          if (record === undefined) return Promise.resolve(undefined);
          return Promise.resolve({
            headers: record.headers,
            payload: record.value,
            brokerMessageId: `${topic}/${coordinates(record)}`,
            enqueuedAt: record.timestamp,
            remove: () => deps.publish(topic, [marker(record)]),
          });
        },
        close: () => Promise.resolve(),
      };
    },
    async republish(destination, group, headers, payload): Promise<void> {
      const tier = deps.retryTiersMs[0];
      const retryTopic = tier === undefined ? undefined : deps.naming.retryTopic(destination, group, tier);
      if (retryTopic === undefined) throw replayImpossible(destination, group);
      await deps
        .requireTopics([retryTopic], `Replaying to ${destination}/${group}`)
        .catch((error: unknown) => {
          throw replayImpossible(destination, group, error);
        });
      const key = headers[WireHeaders.partitionKey];
      await deps.publish(retryTopic, [{ ...(key === undefined ? {} : { key }), value: payload, headers }]);
    },
  });
}

function coordinates(record: ReceivedRecord): string {
  return `${String(record.partition)}:${record.offset}`;
}

function marker(record: ReceivedRecord): OutgoingRecord {
  const target = coordinates(record);
  return { key: target, value: new Uint8Array(0), headers: { [REMOVES_HEADER]: target } };
}

function replayImpossible(destination: string, group: string, cause?: unknown): OmnibusError {
  return new OmnibusError(
    ErrorCodes.DEAD_LETTER_FAILED,
    `Kafka: cannot replay to ${destination}/${group}: the group has no retry topic (ordered groups retry in place and have none; unordered groups get one when provisioned)`,
    cause === undefined ? {} : { cause },
  );
}

/** Every record of `topic` up to the end offsets it had when called, in (timestamp, partition, offset) order. */
async function readToEnd(deps: KafkaDeadLetterDeps, topic: string): Promise<ReceivedRecord[]> {
  const offsets = await deps.client.topicOffsets(topic);
  const remaining = new Map<number, bigint>();
  for (const o of offsets) {
    if (BigInt(o.high) > BigInt(o.low)) remaining.set(o.partition, BigInt(o.high) - 1n);
  }
  if (remaining.size === 0) return [];
  const records: ReceivedRecord[] = [];
  const groupId = `omnibus-dead-letter-scan-${randomUUID()}`;
  const consumer = deps.client.createConsumer({
    groupId,
    topics: [topic],
    fromBeginning: true,
    partitionsConsumedConcurrently: 1,
    ...deps.tuning,
  });
  let finished!: () => void;
  let crashed!: (error: Error) => void;
  const done = new Promise<void>((resolve, reject) => {
    finished = resolve;
    crashed = reject;
  });
  done.catch(() => undefined); // observed below
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(
      () =>
        reject(
          new OmnibusError(
            ErrorCodes.DEAD_LETTER_FAILED,
            `Kafka: reading dead-letter topic ${topic} did not reach its end within ${String(deps.scanTimeoutMs)} ms`,
            { retriable: true },
          ),
        ),
      deps.scanTimeoutMs,
    );
  });
  try {
    await Promise.race([
      consumer.start(
        (batch) => {
          const last = remaining.get(batch.partition);
          for (const record of batch.records) {
            if (last !== undefined && BigInt(record.offset) <= last) records.push(record);
          }
          const seen = batch.records[batch.records.length - 1];
          if (last !== undefined && seen !== undefined && BigInt(seen.offset) >= last) {
            remaining.delete(batch.partition);
            if (remaining.size === 0) finished();
          }
          return Promise.resolve();
        },
        {
          onJoin: () => undefined,
          onRebalancing: () => undefined,
          onCrash: (error, willRestart) => {
            if (!willRestart) crashed(error);
          },
        },
      ),
      timeout,
    ]);
    await Promise.race([done, timeout]);
  } finally {
    clearTimeout(timer);
    await consumer.stop().catch(() => undefined);
    await deps.client.deleteGroups([groupId]).catch(() => undefined);
  }
  return records.sort(
    (a, b) =>
      a.timestamp.getTime() - b.timestamp.getTime() ||
      a.partition - b.partition ||
      Number(BigInt(a.offset) - BigInt(b.offset)),
  );
}
