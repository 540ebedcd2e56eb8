import { WireHeaders, deadLetterWireHeaders } from '@omnibus/core';
import type { DeadLetterReason, MessageHeaders } from '@omnibus/core';
import type { ReceivedRecord } from './kafka-client-port.js';

/**
 * Kafka-specific headers, on top of the shared wire headers. All are `omnibus-*`, so
 * `envelopeFromWire` keeps them out of the application's headers.
 */
export const KafkaHeaders = {
  /** Epoch ms before which a record on a delay or retry topic must not be handled. */
  dueAt: 'omnibus-kafka-due-at',
  /** Where a retried record was first received: topic, partition, offset. */
  originTopic: 'omnibus-kafka-origin-topic',
  originPartition: 'omnibus-kafka-origin-partition',
  originOffset: 'omnibus-kafka-origin-offset',
  /** On a dead-lettered copy: the original record's topic, partition and offset. */
  deadLetterTopic: 'omnibus-dead-letter-topic',
  deadLetterPartition: 'omnibus-dead-letter-partition',
  deadLetterOffset: 'omnibus-dead-letter-offset',
} as const;

/** Headers that describe one hop (attempt, due time, origin) and never travel to a dead-letter copy. */
const HOP_HEADERS = new Set<string>([
  WireHeaders.deliveryAttempt,
  KafkaHeaders.dueAt,
  KafkaHeaders.originTopic,
  KafkaHeaders.originPartition,
  KafkaHeaders.originOffset,
]);

/** The 1-based delivery attempt carried by a record (1 when absent or malformed). */
export function readAttempt(headers: MessageHeaders): number {
  const value = Number(headers[WireHeaders.deliveryAttempt]);
  return Number.isInteger(value) && value >= 1 ? value : 1;
}

/** Epoch ms the record is due, or 0 when it is due at once. */
export function readDueAt(headers: MessageHeaders): number {
  const value = Number(headers[KafkaHeaders.dueAt]);
  return Number.isFinite(value) && value > 0 ? value : 0;
}

/** Where the record was first received: its own coordinates unless it came from a retry topic. */
export function originOf(record: ReceivedRecord): { topic: string; partition: string; offset: string } {
  const h = record.headers;
  const topic = h[KafkaHeaders.originTopic];
  const partition = h[KafkaHeaders.originPartition];
  const offset = h[KafkaHeaders.originOffset];
  if (topic !== undefined && partition !== undefined && offset !== undefined)
    return { topic, partition, offset };
  return { topic: record.topic, partition: String(record.partition), offset: record.offset };
}

/** Headers of a delayed publish: the envelope's wire headers plus the due time. */
export function delayedHeaders(wire: MessageHeaders, dueAt: number): Record<string, string> {
  return { ...wire, [KafkaHeaders.dueAt]: String(dueAt) };
}

/** Headers of the retry copy of `record`: attempt + 1, due time, and where it was first received. */
export function retryHeaders(
  record: ReceivedRecord,
  nextAttempt: number,
  dueAt: number,
): Record<string, string> {
  const origin = originOf(record);
  return {
    ...record.headers,
    [WireHeaders.deliveryAttempt]: String(nextAttempt),
    [KafkaHeaders.dueAt]: String(dueAt),
    [KafkaHeaders.originTopic]: origin.topic,
    [KafkaHeaders.originPartition]: origin.partition,
    [KafkaHeaders.originOffset]: origin.offset,
  };
}

/**
 * Headers of the dead-letter copy of `record`: its original headers (hop headers removed), the
 * shared dead-letter headers (reason, attempts, destination, group, time) and the original
 * topic, partition and offset.
 */
export function deadLetterHeaders(
  record: ReceivedRecord,
  reason: DeadLetterReason,
  origin: { readonly destination: string; readonly group: string },
): Record<string, string> {
  const original: Record<string, string> = {};
  for (const [name, value] of Object.entries(record.headers)) {
    if (!HOP_HEADERS.has(name)) original[name] = value;
  }
  const first = originOf(record);
  return {
    ...deadLetterWireHeaders(original, reason, origin),
    [KafkaHeaders.deadLetterTopic]: first.topic,
    [KafkaHeaders.deadLetterPartition]: first.partition,
    [KafkaHeaders.deadLetterOffset]: first.offset,
  };
}
