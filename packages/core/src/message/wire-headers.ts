import type { DeadLetterReason } from '../transport/delivery.js';
import type { MessageEnvelope, MessageHeaders } from './envelope.js';

/**
 * Reserved header names used on the wire. CloudEvents 1.0 binary-mode names (`ce-*`) for the
 * standard attributes, `omnibus-*` for the rest. Every adapter carries the map returned by
 * {@link envelopeToWireHeaders} in its broker's native headers, so all transports agree.
 */
export const WireHeaders = {
  specVersion: 'ce-specversion',
  id: 'ce-id',
  type: 'ce-type',
  source: 'ce-source',
  time: 'ce-time',
  contentType: 'content-type',
  correlationId: 'omnibus-correlation-id',
  causationId: 'omnibus-causation-id',
  partitionKey: 'omnibus-partition-key',
  eventVersion: 'omnibus-event-version',
  replyTo: 'omnibus-reply-to',
  deliveryAttempt: 'omnibus-delivery-attempt',
  deadLetterCode: 'omnibus-dead-letter-code',
  deadLetterReason: 'omnibus-dead-letter-reason',
  deadLetterAttempts: 'omnibus-dead-letter-attempts',
  deadLetterDestination: 'omnibus-dead-letter-destination',
  deadLetterGroup: 'omnibus-dead-letter-group',
  deadLetterAt: 'omnibus-dead-letter-at',
} as const;

const RESERVED = new Set<string>(Object.values(WireHeaders));

/** CloudEvents `source` attribute stamped on every message Omnibus publishes. */
export const CLOUD_EVENTS_SOURCE = 'urn:omnibus';

/** True for header names Omnibus owns on the wire (`ce-*`, `content-type`, `omnibus-*`). */
export function isReservedHeader(name: string): boolean {
  return RESERVED.has(name) || name.startsWith('ce-') || name.startsWith('omnibus-');
}

/** The complete string map to put on the wire for an envelope: user headers plus reserved ones. */
export function envelopeToWireHeaders(envelope: MessageEnvelope): Record<string, string> {
  const wire: Record<string, string> = {};
  for (const [name, value] of Object.entries(envelope.headers)) {
    if (!isReservedHeader(name)) wire[name] = value;
  }
  wire[WireHeaders.specVersion] = '1.0';
  wire[WireHeaders.id] = envelope.id;
  wire[WireHeaders.type] = envelope.type;
  wire[WireHeaders.source] = CLOUD_EVENTS_SOURCE;
  wire[WireHeaders.time] = envelope.occurredAt.toISOString();
  wire[WireHeaders.contentType] = envelope.contentType;
  if (envelope.correlationId !== undefined) wire[WireHeaders.correlationId] = envelope.correlationId;
  if (envelope.causationId !== undefined) wire[WireHeaders.causationId] = envelope.causationId;
  if (envelope.partitionKey !== undefined) wire[WireHeaders.partitionKey] = envelope.partitionKey;
  if (envelope.version !== undefined) wire[WireHeaders.eventVersion] = String(envelope.version);
  if (envelope.replyTo !== undefined) wire[WireHeaders.replyTo] = envelope.replyTo;
  return wire;
}

/** Input to {@link envelopeFromWire}. */
export interface WireMessage {
  readonly headers: MessageHeaders;
  readonly payload: Uint8Array;
  /** Used when the message carries no `ce-id` (a foreign message): the broker's message id. */
  readonly fallbackId?: string;
  /** Used when the message carries no `ce-time`: the broker's enqueue time. */
  readonly fallbackTime?: Date;
}

/**
 * Rebuild an envelope from wire headers and payload. Lenient by design: a foreign message (no
 * Omnibus headers) still yields an envelope, with `type: ''`, so the router can dead-letter it
 * with a reason instead of crashing the consumer.
 */
export function envelopeFromWire(message: WireMessage): MessageEnvelope {
  const h = message.headers;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(h)) {
    if (!isReservedHeader(name)) headers[name] = value;
  }
  const time = h[WireHeaders.time];
  const parsed = time === undefined ? Number.NaN : Date.parse(time);
  const envelope: {
    -readonly [K in keyof MessageEnvelope]: MessageEnvelope[K];
  } = {
    id: h[WireHeaders.id] ?? message.fallbackId ?? '',
    type: h[WireHeaders.type] ?? '',
    payload: message.payload,
    contentType: h[WireHeaders.contentType] ?? 'application/octet-stream',
    headers,
    occurredAt: Number.isNaN(parsed) ? (message.fallbackTime ?? new Date(0)) : new Date(parsed),
  };
  const correlationId = h[WireHeaders.correlationId];
  const causationId = h[WireHeaders.causationId];
  const partitionKey = h[WireHeaders.partitionKey];
  if (correlationId !== undefined) envelope.correlationId = correlationId;
  if (causationId !== undefined) envelope.causationId = causationId;
  if (partitionKey !== undefined) envelope.partitionKey = partitionKey;
  const version = h[WireHeaders.eventVersion];
  if (version !== undefined) envelope.version = Number(version);
  const replyTo = h[WireHeaders.replyTo];
  if (replyTo !== undefined) envelope.replyTo = replyTo;
  return envelope;
}

/** Where a dead-lettered message came from and why, as carried on the wire. */
export interface DeadLetterInfo extends DeadLetterReason {
  readonly destination: string;
  readonly group: string;
  readonly at: Date;
}

/**
 * Headers to add to a dead-lettered copy: the original wire headers plus reason, attempt
 * count, original destination and group. Adapters without native reason fields use this as is.
 */
export function deadLetterWireHeaders(
  original: MessageHeaders,
  reason: DeadLetterReason,
  origin: { readonly destination: string; readonly group: string },
): Record<string, string> {
  return {
    ...original,
    [WireHeaders.deadLetterCode]: reason.code,
    [WireHeaders.deadLetterReason]: reason.message,
    [WireHeaders.deadLetterAttempts]: String(reason.attempts),
    [WireHeaders.deadLetterDestination]: origin.destination,
    [WireHeaders.deadLetterGroup]: origin.group,
    [WireHeaders.deadLetterAt]: new Date().toISOString(),
  };
}

/** Read the dead-letter details back from a dead-lettered message's headers, if present. */
export function readDeadLetterInfo(headers: MessageHeaders): DeadLetterInfo | undefined {
  const code = headers[WireHeaders.deadLetterCode];
  if (code === undefined) return undefined;
  return {
    code,
    message: headers[WireHeaders.deadLetterReason] ?? '',
    attempts: Number(headers[WireHeaders.deadLetterAttempts] ?? '0'),
    destination: headers[WireHeaders.deadLetterDestination] ?? '',
    group: headers[WireHeaders.deadLetterGroup] ?? '',
    at: new Date(headers[WireHeaders.deadLetterAt] ?? 0),
  };
}
