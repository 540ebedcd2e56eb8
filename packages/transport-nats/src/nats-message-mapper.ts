import { headers as natsHeaders } from '@nats-io/transport-node';
import type { MsgHdrs } from '@nats-io/transport-node';
import { envelopeFromWire, envelopeToWireHeaders } from '@omnibus/core';
import type { MessageEnvelope } from '@omnibus/core';

/**
 * Marks a header value carried base64-encoded: NATS header values cannot hold CR/LF, and the
 * server and client trim surrounding whitespace, so such values (and empty ones) are encoded.
 */
export const ENCODED_VALUE_PREFIX = 'omnibus-b64:';

/** A value that survives a NATS header line unchanged: no control characters, not empty, not padded. */
const PLAIN_VALUE = /^[^\s\p{Cc}](?:[^\p{Cc}]*[^\s\p{Cc}])?$/u;

/** The text to put in a NATS header for `value` (encoded when it would not round-trip). Pure. */
export function encodeHeaderValue(value: string): string {
  if (PLAIN_VALUE.test(value) && !value.startsWith(ENCODED_VALUE_PREFIX)) return value;
  return ENCODED_VALUE_PREFIX + Buffer.from(value, 'utf8').toString('base64');
}

/** The inverse of {@link encodeHeaderValue}. Pure. */
export function decodeHeaderValue(text: string): string {
  if (!text.startsWith(ENCODED_VALUE_PREFIX)) return text;
  return Buffer.from(text.slice(ENCODED_VALUE_PREFIX.length), 'base64').toString('utf8');
}

/** True for headers the server or JetStream owns (`Nats-Msg-Id`, `Nats-Expected-*`, status lines). */
export function isServerHeader(name: string): boolean {
  return /^nats-/i.test(name);
}

/** NATS headers for a string map (values encoded where needed). Pure apart from allocation. */
export function toNatsHeaders(wire: Readonly<Record<string, string>>): MsgHdrs {
  const out = natsHeaders();
  for (const [name, value] of Object.entries(wire)) out.set(name, encodeHeaderValue(value));
  return out;
}

/** A NATS message's headers as a string map (first value per name), server-owned ones dropped. Pure. */
export function fromNatsHeaders(received: MsgHdrs | undefined): Record<string, string> {
  const wire: Record<string, string> = {};
  if (received === undefined) return wire;
  for (const name of received.keys()) {
    if (isServerHeader(name)) continue;
    wire[name] = decodeHeaderValue(received.get(name));
  }
  return wire;
}

/** NATS headers for an envelope: every `envelopeToWireHeaders` entry. Pure. */
export function envelopeToNatsHeaders(envelope: MessageEnvelope): MsgHdrs {
  return toNatsHeaders(envelopeToWireHeaders(envelope));
}

/** What the transport needs of a received JetStream message to rebuild its envelope. */
export interface ReceivedParts {
  readonly headers: MsgHdrs | undefined;
  readonly data: Uint8Array;
  /** Stream and sequence, the fallback id of a foreign message (`<stream>:<seq>`). */
  readonly stream: string;
  readonly seq: number;
  /** When the server stored the message (ms since epoch), the fallback time. */
  readonly timestampMs: number;
}

/**
 * Rebuild the envelope of a received message. Lenient: a foreign message (no Omnibus headers)
 * still yields an envelope with `type: ''`, its id falling back to `Nats-Msg-Id`, else to
 * `<stream>:<sequence>` (stable across redeliveries), its time to the store time. Pure.
 */
export function receivedToEnvelope(parts: ReceivedParts): MessageEnvelope {
  const msgId = parts.headers?.get('Nats-Msg-Id') ?? '';
  return envelopeFromWire({
    headers: fromNatsHeaders(parts.headers),
    payload: parts.data,
    fallbackId: msgId !== '' ? msgId : `${parts.stream}:${String(parts.seq)}`,
    fallbackTime: new Date(parts.timestampMs),
  });
}
