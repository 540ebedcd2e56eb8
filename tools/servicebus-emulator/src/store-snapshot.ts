import { fromEncoded, type PropertyValue } from './amqp-message.js';
import type { BrokerMessage, MessageState } from './broker-message.js';

/** A message in a snapshot file: the client's bytes (base64) and the broker's state, no lock. */
export interface SnapshotMessage {
  seq: number;
  raw: string;
  enqueuedAt: number;
  expiresAt?: number;
  deliveryCount: number;
  state: MessageState;
  scheduledAt?: number;
  extraProperties?: Record<string, PropertyValue>;
}

/** Converts a stored message for a snapshot; a held lock is dropped, the delivery count kept. */
export function toSnapshotMessage(m: BrokerMessage): SnapshotMessage {
  const s: SnapshotMessage = {
    seq: m.seq,
    raw: m.message.raw.toString('base64'),
    enqueuedAt: m.enqueuedAt,
    deliveryCount: m.deliveryCount,
    state: m.state,
  };
  if (m.expiresAt !== undefined) s.expiresAt = m.expiresAt;
  if (m.scheduledAt !== undefined) s.scheduledAt = m.scheduledAt;
  if (m.extraProperties) s.extraProperties = m.extraProperties;
  return s;
}

/** Rebuilds a stored (unlocked) message from a snapshot entry. */
export function fromSnapshotMessage(s: SnapshotMessage): BrokerMessage {
  return {
    seq: s.seq,
    message: fromEncoded(Buffer.from(s.raw, 'base64')),
    enqueuedAt: s.enqueuedAt,
    expiresAt: s.expiresAt,
    deliveryCount: s.deliveryCount,
    state: s.state,
    scheduledAt: s.scheduledAt,
    extraProperties: s.extraProperties,
    lock: undefined,
  };
}
