import type { TransportCapabilities } from '@omnibus/core';
import type { SqsTransportOptions } from './sqs-options.js';

/** SQS's per-message DelaySeconds maximum (15 minutes). */
export const MAX_DELAY_MS = 15 * 60 * 1000;
/**
 * Longest retry delay declared. SQS caps a message's visibility at 12 hours counted from its
 * receive, so one hour is kept for the handler run itself; longer handler runs get the delay
 * cut to what is left (see docs/transports/sqs.md).
 */
export const MAX_RETRY_DELAY_MS = 11 * 60 * 60 * 1000;
/** Bytes kept free in every message for headers (the packed attribute, native copies, dead-letter details). */
export const HEADER_RESERVE_BYTES = 8 * 1024;

/**
 * Largest payload accepted: what still fits the message limit after the header reserve when
 * the payload has to travel base64-encoded (binary payloads grow by 4/3).
 */
export function maxPayloadBytes(maxMessageBytes: number): number {
  return Math.floor(((maxMessageBytes - HEADER_RESERVE_BYTES) * 3) / 4);
}

/**
 * What one configuration supports, and why:
 * - ordering: FIFO only (MessageGroupId = partition key); standard queues have no order.
 * - delayedDelivery: DelaySeconds ≤ 15 min on standard queues published directly (fanOut
 *   "none"); FIFO queues have no per-message delay and SNS Publish has no delay at all.
 * - fanOut: only through SNS; with "none" a destination has one queue and one group.
 * - survivesBrokerRestart: the `durableBroker` option (Amazon SQS keeps accepted messages;
 *   ElasticMQ persists asynchronously, so a message accepted just before its restart can be lost).
 * - noDuplicatesWithoutFaults / publishDeduplication: FIFO only (standard SQS is at-least-once
 *   and may deliver a copy twice; FIFO de-duplicates by MessageDeduplicationId for 5 minutes).
 * - publishWithoutSubscribers: with SNS a topic without subscriptions rejects the publish
 *   (ListSubscriptionsByTopic); without SNS the destination's queue is its one group, created
 *   with the destination, and keeps the message until a consumer comes ("retained").
 * - deadLetterStore: standard queues only (a FIFO queue hides the rest of a message group
 *   while one of its messages is held, so a pass cannot browse it).
 * - backlog: the group queue's approximate counts (visible + not visible + delayed).
 */
export function sqsCapabilities(
  options: Pick<SqsTransportOptions, 'fifo' | 'fanOut' | 'maxMessageBytes'> & {
    readonly durableBroker?: boolean;
  },
): TransportCapabilities {
  const sns = options.fanOut === 'sns';
  return {
    ordering: options.fifo ? 'per-key' : 'none',
    delayedDelivery: options.fifo || sns ? false : { maxDelayMs: MAX_DELAY_MS, emulated: false },
    maxRetryDelayMs: MAX_RETRY_DELAY_MS,
    maxPayloadBytes: maxPayloadBytes(options.maxMessageBytes),
    competingConsumers: true,
    fanOut: sns,
    survivesBrokerRestart: options.durableBroker ?? true,
    noDuplicatesWithoutFaults: options.fifo,
    publishDeduplication: options.fifo,
    atomicBatchPublish: false,
    deadLetterStore: !options.fifo,
    backlog: { kind: 'approximate', approximate: true },
    publishWithoutSubscribers: sns ? 'rejects' : 'retained',
  };
}
