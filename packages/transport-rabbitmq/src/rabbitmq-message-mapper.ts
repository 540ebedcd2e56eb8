import { randomUUID } from 'node:crypto';
import type { Message, Options } from 'amqplib';
import { WireHeaders, deadLetterWireHeaders, envelopeFromWire, envelopeToWireHeaders } from '@omnibus/core';
import type { DeadLetterReason, MessageEnvelope } from '@omnibus/core';

/** Body and AMQP properties of one message to publish. */
export interface AmqpMessageParts {
  readonly content: Buffer;
  readonly options: Options.Publish;
}

/** What the adapter reads from one received AMQP message. */
export interface ReceivedMessage {
  readonly envelope: MessageEnvelope;
  /** 1-based attempt: the carried attempt header plus the broker's redelivery count. */
  readonly deliveryAttempt: number;
}

/** Headers RabbitMQ itself adds (dead-lettering, quorum delivery count, shovels); never user data. */
const BROKER_HEADER = /^x-(death|first-death-.+|last-death-.+|delivery-count|received-from)$/;

/** True for headers the broker owns; they are dropped from envelopes and from republished copies. */
export function isBrokerHeader(name: string): boolean {
  return BROKER_HEADER.test(name);
}

/**
 * AMQP body and properties for an envelope: every `envelopeToWireHeaders` entry as an AMQP
 * header, plus the native properties (message id, correlation id, content type, type, timestamp
 * in seconds), persistent and mandatory. Pure.
 */
export function envelopeToAmqp(envelope: MessageEnvelope): AmqpMessageParts {
  const options: Options.Publish = {
    persistent: true,
    mandatory: true,
    timestamp: Math.floor(envelope.occurredAt.getTime() / 1000),
    headers: envelopeToWireHeaders(envelope),
  };
  // Native properties are AMQP short strings (≤ 255 bytes); the headers carry the full values.
  if (isShortString(envelope.id)) options.messageId = envelope.id;
  if (isShortString(envelope.contentType)) options.contentType = envelope.contentType;
  if (isShortString(envelope.type)) options.type = envelope.type;
  if (envelope.correlationId !== undefined && isShortString(envelope.correlationId))
    options.correlationId = envelope.correlationId;
  return { content: toBuffer(envelope.payload), options };
}

function isShortString(value: string): boolean {
  return Buffer.byteLength(value, 'utf8') <= 255;
}

/**
 * The message's headers as strings (what Omnibus calls wire headers): strings as they are,
 * numbers/booleans/bigints via `String`, byte arrays as UTF-8, dates as ISO text. Broker-owned
 * headers and nested tables/arrays are dropped. Pure.
 */
export function amqpHeadersToWire(
  headers: Readonly<Record<string, unknown>> | undefined,
): Record<string, string> {
  const wire: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (isBrokerHeader(name)) continue;
    const text = headerText(value);
    if (text !== undefined) wire[name] = text;
  }
  return wire;
}

function headerText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (value instanceof Date) return value.toISOString();
  return undefined;
}

/**
 * Rebuild the envelope and attempt number of a received message. Lenient: a foreign message
 * (published without Omnibus headers) still yields an envelope; its id, content type, type,
 * correlation id and time fall back to the native AMQP properties. Pure.
 */
export function amqpToReceived(message: Message): ReceivedMessage {
  const properties = message.properties;
  const headers = amqpHeadersToWire(properties.headers);
  const fallback = (name: string, value: unknown): void => {
    if (headers[name] === undefined && typeof value === 'string' && value !== '') headers[name] = value;
  };
  fallback(WireHeaders.contentType, properties.contentType);
  fallback(WireHeaders.type, properties.type);
  fallback(WireHeaders.correlationId, properties.correlationId);
  const wire: Parameters<typeof envelopeFromWire>[0] = { headers, payload: new Uint8Array(message.content) };
  const messageId: unknown = properties.messageId;
  const timestamp: unknown = properties.timestamp;
  const extras: { fallbackId?: string; fallbackTime?: Date } = {};
  if (typeof messageId === 'string' && messageId !== '') extras.fallbackId = messageId;
  if (typeof timestamp === 'number') extras.fallbackTime = new Date(timestamp * 1000);
  let envelope = envelopeFromWire({ ...wire, ...extras });
  // A foreign message with no id at all still needs one (the ledger / idempotency key); retry and
  // dead-letter copies carry it on as their message id, so it stays stable across attempts.
  if (envelope.id === '') envelope = { ...envelope, id: `amqp-${randomUUID()}` };
  return { envelope, deliveryAttempt: deliveryAttemptOf(message) };
}

/**
 * Attempt number of a received message: the attempt carried by a retried copy
 * (`omnibus-delivery-attempt`, 1 when absent) plus how often the broker already delivered this
 * copy (quorum queues: `x-delivery-count`; classic queues: 1 when `redelivered`). Pure.
 */
export function deliveryAttemptOf(message: Message): number {
  const headers = (message.properties.headers ?? {}) as Record<string, unknown>;
  const carried = Number(headerText(headers[WireHeaders.deliveryAttempt]) ?? '1');
  const base = Number.isInteger(carried) && carried >= 1 ? carried : 1;
  const count = Number(headerText(headers['x-delivery-count']) ?? Number.NaN);
  const redeliveries = Number.isInteger(count) && count >= 0 ? count : message.fields.redelivered ? 1 : 0;
  return base + redeliveries;
}

/** Native properties kept on republished copies (retry, dead-letter); `messageId` defaults to `id`. */
function copiedProperties(message: Message, id: string): Options.Publish {
  const p = message.properties;
  const options: Options.Publish = { persistent: true, mandatory: true };
  if (isShortString(id)) options.messageId = id;
  if (typeof p.contentType === 'string') options.contentType = p.contentType;
  if (typeof p.contentEncoding === 'string') options.contentEncoding = p.contentEncoding;
  if (typeof p.messageId === 'string') options.messageId = p.messageId;
  if (typeof p.correlationId === 'string') options.correlationId = p.correlationId;
  if (typeof p.type === 'string') options.type = p.type;
  if (typeof p.timestamp === 'number') options.timestamp = p.timestamp;
  if (typeof p.appId === 'string') options.appId = p.appId;
  if (typeof p.replyTo === 'string') options.replyTo = p.replyTo;
  if (typeof p.priority === 'number') options.priority = p.priority;
  return options;
}

/**
 * The copy published for a retry: same body, properties and headers (broker-owned headers
 * removed, so RabbitMQ's dead-letter cycle detection never sees a loop), with the next attempt
 * number carried in `omnibus-delivery-attempt`; `id` (the envelope id) becomes the message id
 * when the original had none. Pure.
 */
export function retryCopy(message: Message, id: string, nextAttempt: number): AmqpMessageParts {
  const headers: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(message.properties.headers ?? {})) {
    if (!isBrokerHeader(name)) headers[name] = value;
  }
  headers[WireHeaders.deliveryAttempt] = String(nextAttempt);
  return { content: message.content, options: { ...copiedProperties(message, id), headers } };
}

/**
 * The copy published to a dead-letter queue: same body and properties, the original wire
 * headers (attempt counter removed, so a replay starts at attempt 1) plus reason, attempt count,
 * original destination and group (`deadLetterWireHeaders`). Pure apart from the timestamp.
 */
export function deadLetterCopy(
  message: Message,
  id: string,
  reason: DeadLetterReason,
  origin: { readonly destination: string; readonly group: string },
): AmqpMessageParts {
  const original = amqpHeadersToWire(message.properties.headers);
  delete original[WireHeaders.deliveryAttempt];
  const headers = deadLetterWireHeaders(original, reason, origin);
  return { content: message.content, options: { ...copiedProperties(message, id), headers } };
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
