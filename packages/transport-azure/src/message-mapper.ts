import { createHash } from 'node:crypto';
import { REPLAY_COUNT_HEADER, WireHeaders, envelopeFromWire, envelopeToWireHeaders } from '@omnibus/core';
import type { MessageEnvelope, OutgoingMessage } from '@omnibus/core';
import type { ServiceBusMessage, ServiceBusReceivedMessage } from '@azure/service-bus';
import { MAX_SESSION_ID_LENGTH, sessionIdFor } from './entity-names.js';

/**
 * Application property naming the only subscription a retry copy is meant for. A retry copy is
 * scheduled on the topic, which fans out to every subscription; the others drop it (broker-side
 * through the subscription's SQL filter where available, and always on the client).
 */
export const RETRY_TARGET_PROPERTY = 'omnibus-retry-subscription';

/** Application property carrying the native message id of the message a retry copy was made from. */
export const SOURCE_MESSAGE_ID_PROPERTY = 'omnibus-source-message-id';

/**
 * Application property counting the receives of a message that no handler saw (given back
 * unstarted while a consumer closed): set by abandoning with modified properties, so it travels
 * with the message to any process, and subtracted from the broker's delivery count.
 */
export const UNCOUNTED_RECEIVES_PROPERTY = 'omnibus-uncounted-receives';

/**
 * Application properties Service Bus itself sets on dead-lettered messages; never user headers
 * (a message replayed from a dead-letter queue with its properties copied must not carry them).
 */
export const BROKER_DEAD_LETTER_PROPERTIES = ['DeadLetterReason', 'DeadLetterErrorDescription'] as const;

/** Property values Service Bus can carry in application properties. */
type PropertyValue = string | number | boolean | Date | null;

/** What the adapter reads from a received message. */
export interface DecodedMessage {
  readonly envelope: MessageEnvelope;
  /** 1-based: the carried attempt of the copy plus the broker's count of earlier deliveries of it. */
  readonly deliveryAttempt: number;
  /** Set on retry copies: the subscription the copy is for. */
  readonly retryTarget: string | undefined;
}

/**
 * Envelope → Service Bus message. The wire headers go into `applicationProperties`; the native
 * fields mirror them (`messageId` = id, `correlationId`, `contentType`, `subject` = type) and
 * `sessionId` is the partition key (or the message id when there is none, so session-enabled
 * subscriptions of ordered groups can receive every message). A delay becomes
 * `scheduledEnqueueTimeUtc`. Pure.
 */
export function toServiceBusMessage(message: OutgoingMessage, now: number = Date.now()): ServiceBusMessage {
  const { envelope } = message;
  const out: ServiceBusMessage = {
    body: toBuffer(envelope.payload),
    messageId: nativeId(envelope.id),
    contentType: envelope.contentType,
    subject: envelope.type,
    sessionId: sessionIdFor(envelope.partitionKey ?? envelope.id),
    applicationProperties: envelopeToWireHeaders(envelope),
  };
  if (envelope.correlationId !== undefined) out.correlationId = nativeId(envelope.correlationId);
  if (message.delayMs !== undefined && message.delayMs > 0) {
    out.scheduledEnqueueTimeUtc = new Date(now + message.delayMs);
  }
  return out;
}

/**
 * The wire headers of a received message: its application properties as text, without the
 * broker's dead-letter fields, with content type and correlation id from the native fields
 * when the properties lack them. Pure.
 */
export function receivedWireHeaders(message: ServiceBusReceivedMessage): Record<string, string> {
  const headers = stringProperties(message.applicationProperties);
  for (const name of BROKER_DEAD_LETTER_PROPERTIES) delete headers[name];
  if (headers[WireHeaders.contentType] === undefined && typeof message.contentType === 'string') {
    headers[WireHeaders.contentType] = message.contentType;
  }
  if (headers[WireHeaders.correlationId] === undefined && message.correlationId !== undefined) {
    headers[WireHeaders.correlationId] = String(message.correlationId);
  }
  return headers;
}

/**
 * The copy sent to the topic to replay a dead letter to one subscription only: exactly the given
 * wire headers as application properties, plus the retry-target property naming `subscription`
 * (the other subscriptions drop it, like a retry copy), native fields mirrored, and a native id
 * that differs per replay (duplicate detection, if enabled, never drops a replay). Pure.
 */
export function toReplayCopy(
  headers: Readonly<Record<string, string>>,
  payload: Uint8Array,
  subscription: string,
): ServiceBusMessage {
  const id = headers[WireHeaders.id] ?? headers[SOURCE_MESSAGE_ID_PROPERTY] ?? '';
  const copy: ServiceBusMessage = {
    body: toBuffer(payload),
    messageId: nativeId(`${id}#replay-${headers[REPLAY_COUNT_HEADER] ?? '1'}`),
    sessionId: sessionIdFor(headers[WireHeaders.partitionKey] ?? id),
    applicationProperties: withoutUncounted({ ...headers, [RETRY_TARGET_PROPERTY]: subscription }),
  };
  const contentType = headers[WireHeaders.contentType];
  const type = headers[WireHeaders.type];
  const correlationId = headers[WireHeaders.correlationId];
  if (contentType !== undefined) copy.contentType = contentType;
  if (type !== undefined) copy.subject = type;
  if (correlationId !== undefined) copy.correlationId = nativeId(correlationId);
  return copy;
}

/**
 * Received message → envelope, delivery attempt and retry target. Lenient: a foreign message
 * (no Omnibus properties, any body type) still decodes, with `type: ''`, its native message id
 * as id and its enqueue time as `occurredAt`. Pure.
 */
export function fromReceivedMessage(message: ServiceBusReceivedMessage): DecodedMessage {
  const headers = receivedWireHeaders(message);
  const fallbackId =
    headers[SOURCE_MESSAGE_ID_PROPERTY] ??
    (message.messageId === undefined ? undefined : String(message.messageId));
  const envelope = envelopeFromWire({
    headers,
    payload: bodyBytes(message.body),
    ...(fallbackId === undefined ? {} : { fallbackId }),
    ...(message.enqueuedTimeUtc === undefined ? {} : { fallbackTime: message.enqueuedTimeUtc }),
  });
  return {
    envelope,
    deliveryAttempt: carriedAttempt(headers) + Math.max(0, (message.deliveryCount ?? 0) - uncounted(headers)),
    retryTarget: headers[RETRY_TARGET_PROPERTY],
  };
}

/**
 * The copy that carries a retry: same body, native fields and properties, plus the attempt it
 * represents, the subscription it is for and a fresh native message id (so duplicate detection,
 * if an operator enables it, never drops a retry). Scheduled at `now + delayMs` when delayed.
 */
export function toRetryCopy(
  message: ServiceBusReceivedMessage,
  nextAttempt: number,
  subscription: string,
  delayMs: number,
  now: number = Date.now(),
): ServiceBusMessage {
  const properties: Record<string, PropertyValue> = { ...(message.applicationProperties ?? {}) };
  const carried = properties[SOURCE_MESSAGE_ID_PROPERTY];
  const sourceId = typeof carried === 'string' ? carried : String(message.messageId ?? '');
  properties[SOURCE_MESSAGE_ID_PROPERTY] = sourceId;
  properties[WireHeaders.deliveryAttempt] = String(nextAttempt);
  properties[RETRY_TARGET_PROPERTY] = subscription;
  // The copy starts with its own delivery count (0): the original's uncounted receives do not apply.
  delete properties[UNCOUNTED_RECEIVES_PROPERTY];
  const copy: ServiceBusMessage = {
    body: toBuffer(bodyBytes(message.body)),
    messageId: nativeId(`${sourceId}#${String(nextAttempt)}`),
    applicationProperties: properties,
  };
  if (message.contentType !== undefined) copy.contentType = message.contentType;
  if (message.correlationId !== undefined) copy.correlationId = message.correlationId;
  if (message.subject !== undefined) copy.subject = message.subject;
  if (message.sessionId !== undefined) copy.sessionId = message.sessionId;
  if (delayMs > 0) copy.scheduledEnqueueTimeUtc = new Date(now + delayMs);
  return copy;
}

/** Body of a received message as bytes: data sections as is, strings as UTF-8, anything else as JSON. */
export function bodyBytes(body: unknown): Uint8Array {
  if (body instanceof Uint8Array) return body;
  if (body === undefined || body === null) return new Uint8Array(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  return Buffer.from(JSON.stringify(body) ?? '', 'utf8');
}

/** One application property value as text: strings as is, dates as ISO-8601, bytes as base64, other values as JSON. */
function propertyText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  return JSON.stringify(value) ?? '';
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Application properties as strings (dates as ISO-8601, nulls dropped). */
export function stringProperties(
  properties: Readonly<Record<string, unknown>> | undefined,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(properties ?? {})) {
    if (value === null || value === undefined) continue;
    out[name] = propertyText(value);
  }
  return out;
}

/**
 * The properties to abandon a message with when no handler saw it: its count of uncounted
 * receives one higher (see {@link UNCOUNTED_RECEIVES_PROPERTY}). Pure.
 */
export function uncountedReceiveProperties(message: ServiceBusReceivedMessage): Record<string, number> {
  return { [UNCOUNTED_RECEIVES_PROPERTY]: uncounted(receivedWireHeaders(message)) + 1 };
}

function uncounted(headers: Readonly<Record<string, string>>): number {
  const value = Number(headers[UNCOUNTED_RECEIVES_PROPERTY]);
  return Number.isInteger(value) && value > 0 ? value : 0;
}

function withoutUncounted(properties: Record<string, string>): Record<string, string> {
  delete properties[UNCOUNTED_RECEIVES_PROPERTY];
  return properties;
}

/** The attempt a copy started at (1 for published messages, n for the retry copy of attempt n−1). */
function carriedAttempt(headers: Readonly<Record<string, string>>): number {
  const carried = Number(headers[WireHeaders.deliveryAttempt]);
  return Number.isInteger(carried) && carried >= 1 ? carried : 1;
}

/** Native ids are limited to 128 characters; longer ones are replaced by a hash. */
function nativeId(id: string): string {
  if (id.length <= MAX_SESSION_ID_LENGTH) return id;
  return `sha256-${createHash('sha256').update(id).digest('hex')}`;
}
