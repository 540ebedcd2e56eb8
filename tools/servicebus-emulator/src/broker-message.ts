import type { Typed } from 'rhea';
import { annotation, renderMessage, type EncodedMessage, type PropertyValue } from './amqp-message.js';
import type { LockToken } from './lock-token.js';

/** Where a message is in its life cycle (dead-lettered messages live in the dead-letter store). */
export type MessageState = 'active' | 'deferred' | 'scheduled';

/** The peek-lock held on a message. */
export interface MessageLock {
  readonly token: LockToken;
  /** Epoch ms; for session messages this follows the session lock. */
  until: number;
  /** Id of the receive link that holds the lock; undefined when received through `$management`. */
  readonly ownerId: string | undefined;
  timer: NodeJS.Timeout | undefined;
}

/** A message held by a queue, subscription or dead-letter queue. */
export interface BrokerMessage {
  readonly seq: number;
  readonly message: EncodedMessage;
  enqueuedAt: number;
  expiresAt: number | undefined;
  /** Number of times the message has been handed out under a lock (or in receive-and-delete). */
  deliveryCount: number;
  state: MessageState;
  /** Epoch ms at which a scheduled message becomes active. */
  scheduledAt: number | undefined;
  /** Application properties the broker set (dead-letter reason, properties to modify). */
  extraProperties: Record<string, PropertyValue> | undefined;
  lock: MessageLock | undefined;
}

/** The session id of a stored message, if any. */
export function sessionIdOf(m: BrokerMessage): string | undefined {
  return m.message.fields.sessionId;
}

const MESSAGE_STATE_CODE: Record<MessageState, number> = { active: 0, deferred: 1, scheduled: 2 };

/**
 * Encodes a stored message as the broker hands it out.
 *
 * `header.delivery_count` is the number of *previous* deliveries (0 on the first), which the JS
 * SDK shows as `deliveryCount` unchanged.
 */
export function encodeForDelivery(
  m: BrokerMessage,
  lock: MessageLock | undefined,
  previousDeliveries: number,
): Buffer {
  const annotations: Array<[string, Typed]> = [
    ['x-opt-sequence-number', annotation.long(m.seq)],
    ['x-opt-enqueue-sequence-number', annotation.long(m.seq)],
    ['x-opt-enqueued-time', annotation.timestamp(m.enqueuedAt)],
  ];
  if (m.state !== 'active')
    annotations.push(['x-opt-message-state', annotation.int(MESSAGE_STATE_CODE[m.state])]);
  if (m.state === 'scheduled' && m.scheduledAt !== undefined) {
    annotations.push(['x-opt-scheduled-enqueue-time', annotation.timestamp(m.scheduledAt)]);
  }
  if (lock) {
    annotations.push(['x-opt-locked-until', annotation.timestamp(lock.until)]);
    annotations.push(['x-opt-lock-token', annotation.uuid(lock.token.bytes)]);
  }
  return renderMessage(m.message, {
    deliveryCount: previousDeliveries,
    annotations,
    extraProperties: m.extraProperties,
  });
}
