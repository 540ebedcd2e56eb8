/**
 * Stored messages keep the bytes the client sent, split into AMQP sections, so that properties,
 * application properties and body go back out exactly as they came in. Only the header (delivery
 * count) and the message annotations (broker state) are rebuilt on every delivery; application
 * properties are rebuilt only when the broker adds some (dead-letter reason, properties to modify).
 */
import { randomUUID } from 'node:crypto';
import type { Message, Typed } from 'rhea';
import { amqp, amqpTypes, encodeTyped, headerSection, newReader, typedMap } from './rhea-compat.js';

const HEADER = 0x70;
const DELIVERY_ANNOTATIONS = 0x71;
const MESSAGE_ANNOTATIONS = 0x72;
const PROPERTIES = 0x73;
const APPLICATION_PROPERTIES = 0x74;
const FOOTER = 0x78;

const SYMBOLIC_SECTIONS: Record<string, number> = {
  'amqp:header:list': 0x70,
  'amqp:delivery-annotations:map': 0x71,
  'amqp:message-annotations:map': 0x72,
  'amqp:properties:list': 0x73,
  'amqp:application-properties:map': 0x74,
  'amqp:data:binary': 0x75,
  'amqp:amqp-sequence:list': 0x76,
  'amqp:value:*': 0x77,
  'amqp:footer:map': 0x78,
};

/** One encoded AMQP message section. */
export interface MessageSection {
  readonly code: number;
  readonly bytes: Buffer;
}

/** Header fields kept from the client's header section. */
export interface HeaderFields {
  readonly durable?: boolean;
  readonly priority?: number;
  readonly ttl?: number;
  readonly first_acquirer?: boolean;
}

/** Fields the broker reads from a message. */
export interface MessageFields {
  readonly messageId: string | undefined;
  readonly correlationId: string | undefined;
  readonly sessionId: string | undefined;
  readonly partitionKey: string | undefined;
  readonly ttlMs: number | undefined;
  readonly scheduledEnqueueTimeMs: number | undefined;
  readonly header: HeaderFields;
}

/** A message as the client encoded it, plus the fields the broker needs. */
export interface EncodedMessage {
  readonly raw: Buffer;
  readonly sections: readonly MessageSection[];
  readonly fields: MessageFields;
}

/** Value types allowed in application properties the broker adds. */
export type PropertyValue = string | number | boolean | Date | null;

function sectionCode(typed: Typed): number {
  const descriptor = (typed as unknown as { descriptor?: { value?: unknown } }).descriptor;
  const value = descriptor?.value;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') return SYMBOLIC_SECTIONS[value] ?? -1;
  return -1;
}

/** Splits an encoded message into its sections without re-encoding anything. */
export function splitSections(raw: Buffer): MessageSection[] {
  const reader = newReader(raw);
  const sections: MessageSection[] = [];
  while (reader.remaining() > 0) {
    const start = reader.position;
    const typed = reader.read();
    sections.push({ code: sectionCode(typed), bytes: raw.subarray(start, reader.position) });
  }
  return sections;
}

function idToString(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Buffer.isBuffer(value)) return value.toString('hex');
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint')
    return String(value);
  return undefined;
}

function readFields(decoded: Message): MessageFields {
  const annotations = (decoded.message_annotations ?? {}) as Record<string, unknown>;
  const scheduled = annotations['x-opt-scheduled-enqueue-time'];
  const partitionKey = annotations['x-opt-partition-key'];
  const header: { durable?: boolean; priority?: number; ttl?: number; first_acquirer?: boolean } = {};
  if (decoded.durable !== undefined) header.durable = decoded.durable;
  if (decoded.priority !== undefined) header.priority = decoded.priority;
  if (typeof decoded.ttl === 'number') header.ttl = decoded.ttl;
  if (decoded.first_acquirer !== undefined) header.first_acquirer = decoded.first_acquirer;
  return {
    messageId: idToString(decoded.message_id),
    correlationId: idToString(decoded.correlation_id),
    sessionId: typeof decoded.group_id === 'string' ? decoded.group_id : undefined,
    partitionKey: typeof partitionKey === 'string' ? partitionKey : undefined,
    ttlMs: typeof decoded.ttl === 'number' && decoded.ttl > 0 ? decoded.ttl : undefined,
    scheduledEnqueueTimeMs:
      scheduled instanceof Date ? scheduled.getTime() : typeof scheduled === 'number' ? scheduled : undefined,
    header,
  };
}

/** Parses a message from its encoded bytes (a batch entry, a schedule request, a snapshot). */
export function fromEncoded(raw: Buffer): EncodedMessage {
  const decoded = amqp.message.decode(raw) as unknown as Message;
  return { raw, sections: splitSections(raw), fields: readFields(decoded) };
}

/**
 * Gives a message without a message id one, as Service Bus does (the SDK's lock renewal keys on
 * it). Only such messages are re-encoded.
 */
export function withMessageId(message: EncodedMessage): EncodedMessage {
  if (message.fields.messageId !== undefined) return message;
  const decoded = amqp.message.decode(message.raw) as unknown as Message;
  decoded.message_id = randomUUID().replace(/-/g, '');
  return fromEncoded(amqp.message.encode(decoded));
}

/**
 * Parses a message rhea already decoded (a single send, `message_format` 0). rhea does not keep
 * the bytes, so the message is re-encoded; rhea's decode/encode round trip keeps values but may
 * widen uuid message ids to binary.
 */
export function fromDecoded(message: Message): EncodedMessage {
  return fromEncoded(amqp.message.encode(message));
}

/**
 * Unpacks a batched transfer (`message_format` 0x80013700): an envelope whose body is data
 * sections, each holding one encoded message.
 */
export function unpackBatch(payload: Buffer): EncodedMessage[] {
  const envelope = amqp.message.decode(payload) as unknown as { body?: unknown };
  const body = envelope.body as { content?: unknown; multiple?: boolean } | undefined;
  if (!body || body.content === undefined) return [];
  const entries: unknown[] =
    body.multiple === true && Array.isArray(body.content) ? body.content : [body.content];
  return entries.filter((e): e is Buffer => Buffer.isBuffer(e)).map((e) => fromEncoded(e));
}

function readMapItems(section: MessageSection | undefined): Typed[] {
  if (!section) return [];
  const typed = newReader(section.bytes).read();
  const items = (typed as unknown as { value?: unknown }).value;
  return Array.isArray(items) ? (items as Typed[]) : [];
}

function mergeMap(
  original: MessageSection | undefined,
  additions: ReadonlyArray<[Typed, Typed]>,
  code: number,
): Typed {
  const overridden = new Set(additions.map(([k]) => String((k as unknown as { value: unknown }).value)));
  const items = readMapItems(original);
  const merged: Typed[] = [];
  for (let i = 0; i + 1 < items.length; i += 2) {
    const key = items[i] as Typed;
    const value = items[i + 1] as Typed;
    if (!overridden.has(String((key as unknown as { value: unknown }).value))) merged.push(key, value);
  }
  for (const [k, v] of additions) merged.push(k, v);
  return amqpTypes.described(amqpTypes.wrap_ulong(code), typedMap(merged)) as Typed;
}

/** What the broker adds when it hands a message out. */
export interface RenderOptions {
  /** `header.delivery_count`: previous delivery attempts. */
  readonly deliveryCount: number;
  /** Broker annotations (symbol keys), overriding the client's of the same name. */
  readonly annotations: ReadonlyArray<[string, Typed]>;
  /** Application properties the broker added (override the client's of the same name). */
  readonly extraProperties?: Readonly<Record<string, PropertyValue>> | undefined;
}

/** Encodes a stored message for delivery: new header and annotations, original everything else. */
export function renderMessage(message: EncodedMessage, options: RenderOptions): Buffer {
  const find = (code: number): MessageSection | undefined => message.sections.find((s) => s.code === code);
  const parts: Buffer[] = [];
  parts.push(
    encodeTyped([headerSection({ ...message.fields.header, delivery_count: options.deliveryCount })]),
  );
  const annotations = options.annotations.map(([k, v]): [Typed, Typed] => [amqpTypes.wrap_symbol(k), v]);
  parts.push(encodeTyped([mergeMap(find(MESSAGE_ANNOTATIONS), annotations, MESSAGE_ANNOTATIONS)]));
  const properties = find(PROPERTIES);
  if (properties) parts.push(properties.bytes);
  const extra = options.extraProperties ? Object.entries(options.extraProperties) : [];
  const appProps = find(APPLICATION_PROPERTIES);
  if (extra.length > 0) {
    const additions = extra.map(([k, v]): [Typed, Typed] => [amqpTypes.wrap_string(k), amqpTypes.wrap(v)]);
    parts.push(encodeTyped([mergeMap(appProps, additions, APPLICATION_PROPERTIES)]));
  } else if (appProps) {
    parts.push(appProps.bytes);
  }
  const skip = new Set([
    HEADER,
    DELIVERY_ANNOTATIONS,
    MESSAGE_ANNOTATIONS,
    PROPERTIES,
    APPLICATION_PROPERTIES,
    FOOTER,
  ]);
  for (const section of message.sections) if (!skip.has(section.code)) parts.push(section.bytes);
  const footer = find(FOOTER);
  if (footer) parts.push(footer.bytes);
  return Buffer.concat(parts);
}

/** Typed helpers for broker annotations. */
export const annotation = {
  long: (n: number): Typed => amqpTypes.wrap_long(n),
  int: (n: number): Typed => amqpTypes.wrap_int(n),
  timestamp: (ms: number): Typed => amqpTypes.wrap_timestamp(ms),
  uuid: (bytes: Buffer): Typed => amqpTypes.wrap_uuid(bytes),
  string: (s: string): Typed => amqpTypes.wrap_string(s),
};
