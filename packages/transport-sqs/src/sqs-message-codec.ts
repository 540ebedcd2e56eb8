import { ErrorCodes, OmnibusError } from '@omnibus/core';

/** One SQS/SNS message attribute (the shape both SDKs share for String values). */
export interface WireAttribute {
  readonly DataType: string;
  readonly StringValue?: string | undefined;
  readonly BinaryValue?: Uint8Array | undefined;
}

/** A message as SQS/SNS carry it: a string body and at most 10 attributes. */
export interface SqsWireMessage {
  readonly body: string;
  readonly attributes: Record<string, WireAttribute>;
}

/** The attribute holding every wire header as one JSON object, so none is ever dropped. */
export const PACKED_HEADERS_ATTRIBUTE = 'omnibus-headers';
/** Reserved wire header telling how the body encodes the payload: absent (UTF-8 text), `base64` or `empty`. */
export const BODY_ENCODING_HEADER = 'omnibus-body-encoding';
/** Headers also copied into native attributes (SNS filter policies, console readability). */
const NATIVE_HEADERS = ['ce-id', 'ce-type', 'content-type'] as const;
/** SQS and SNS reject messages with more attributes than this. */
export const MAX_MESSAGE_ATTRIBUTES = 10;

// Characters SQS/SNS accept in bodies and attribute values (the XML 1.0 character set).
const INVALID_XML_CHAR = /[^\x09\x0A\x0D\x20-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const UTF8 = new TextEncoder();

/**
 * Encode wire headers and payload into an SQS/SNS message. The payload travels as UTF-8 text
 * when it is valid text SQS accepts, otherwise base64 (marked in the headers). All headers go
 * into ONE JSON attribute ({@link PACKED_HEADERS_ATTRIBUTE}); `ce-id`, `ce-type` and
 * `content-type` are also copied into native attributes. Pure; never throws for any input.
 */
export function encodeWireMessage(
  headers: Readonly<Record<string, string>>,
  payload: Uint8Array,
): SqsWireMessage {
  const { body, encoding } = encodeBody(payload);
  const all: Record<string, string> = { ...headers };
  delete all[BODY_ENCODING_HEADER];
  if (encoding !== undefined) all[BODY_ENCODING_HEADER] = encoding;
  return { body, attributes: packAttributes(all) };
}

/** Attributes for a header map: the packed JSON plus the native copies. */
export function packAttributes(headers: Readonly<Record<string, string>>): Record<string, WireAttribute> {
  const attributes: Record<string, WireAttribute> = {
    [PACKED_HEADERS_ATTRIBUTE]: { DataType: 'String', StringValue: toSafeJson(headers) },
  };
  for (const name of NATIVE_HEADERS) {
    const value = headers[name];
    if (value !== undefined && value !== '' && !INVALID_XML_CHAR.test(value)) {
      attributes[name] = { DataType: 'String', StringValue: value };
    }
  }
  return attributes;
}

/** An attribute as received (the SDK types every field as optional). */
export interface ReceivedAttribute {
  readonly DataType?: string | undefined;
  readonly StringValue?: string | undefined;
  readonly BinaryValue?: Uint8Array | undefined;
}

/** Decoded form of a received message: every wire header (packed and native) and the payload bytes. */
export interface DecodedWireMessage {
  readonly headers: Record<string, string>;
  readonly payload: Uint8Array;
}

/**
 * Decode a received message. Lenient: a foreign message (no packed attribute) yields its native
 * String/Number attributes as headers and its body as UTF-8 bytes; a corrupt packed attribute
 * is ignored the same way, so the router can dead-letter the message instead of crashing.
 */
export function decodeWireMessage(
  body: string | undefined,
  attributes: Readonly<Record<string, ReceivedAttribute>> | undefined,
): DecodedWireMessage {
  const headers: Record<string, string> = {};
  let packed: Record<string, string> | undefined;
  for (const [name, attribute] of Object.entries(attributes ?? {})) {
    if (name === PACKED_HEADERS_ATTRIBUTE) {
      packed = parsePacked(attribute.StringValue);
    } else if (attribute.StringValue !== undefined) {
      headers[name] = attribute.StringValue;
    } else if (attribute.BinaryValue !== undefined) {
      headers[name] = Buffer.from(attribute.BinaryValue).toString('base64');
    }
  }
  if (packed !== undefined) Object.assign(headers, packed);
  return { headers, payload: decodeBody(body ?? '', headers[BODY_ENCODING_HEADER]) };
}

/**
 * Size SQS/SNS count for a message: body plus each attribute's name, data type and value,
 * in UTF-8 bytes.
 */
export function wireMessageBytes(message: SqsWireMessage): number {
  let total = Buffer.byteLength(message.body, 'utf8');
  for (const [name, attribute] of Object.entries(message.attributes)) {
    total += Buffer.byteLength(name, 'utf8') + Buffer.byteLength(attribute.DataType, 'utf8');
    if (attribute.StringValue !== undefined) total += Buffer.byteLength(attribute.StringValue, 'utf8');
    if (attribute.BinaryValue !== undefined) total += attribute.BinaryValue.byteLength;
  }
  return total;
}

/**
 * Enforce the broker limits before sending: at most {@link MAX_MESSAGE_ATTRIBUTES} attributes
 * and at most `maxMessageBytes` in total. Throws `PAYLOAD_TOO_LARGE` (not retriable).
 */
export function assertWithinLimits(message: SqsWireMessage, maxMessageBytes: number, id: string): void {
  const count = Object.keys(message.attributes).length;
  if (count > MAX_MESSAGE_ATTRIBUTES) {
    throw new OmnibusError(
      ErrorCodes.PAYLOAD_TOO_LARGE,
      `Message ${id} has ${String(count)} attributes; SQS/SNS allow at most ${String(MAX_MESSAGE_ATTRIBUTES)}`,
    );
  }
  const bytes = wireMessageBytes(message);
  if (bytes > maxMessageBytes) {
    throw new OmnibusError(
      ErrorCodes.PAYLOAD_TOO_LARGE,
      `Message ${id} is ${String(bytes)} bytes on the wire (body + attributes); the limit is ${String(maxMessageBytes)}`,
    );
  }
}

function encodeBody(payload: Uint8Array): { body: string; encoding?: 'base64' | 'empty' } {
  if (payload.byteLength === 0) return { body: '-', encoding: 'empty' };
  try {
    const text = STRICT_UTF8.decode(payload);
    if (!INVALID_XML_CHAR.test(text)) return { body: text };
  } catch {
    // not UTF-8: fall through to base64
  }
  return {
    body: Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('base64'),
    encoding: 'base64',
  };
}

function decodeBody(body: string, encoding: string | undefined): Uint8Array {
  if (encoding === 'empty') return new Uint8Array(0);
  if (encoding === 'base64') return new Uint8Array(Buffer.from(body, 'base64'));
  return UTF8.encode(body);
}

function toSafeJson(headers: Readonly<Record<string, string>>): string {
  // JSON.stringify escapes controls and lone surrogates; U+FFFE/U+FFFF are left raw but SQS rejects them.
  return JSON.stringify(headers).replace(/[\uFFFE\uFFFF]/g, (c) => `\\u${c.charCodeAt(0).toString(16)}`);
}

function parsePacked(value: string | undefined): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(value);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return undefined;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(parsed)) if (typeof v === 'string') out[k] = v;
    return out;
  } catch {
    return undefined;
  }
}
