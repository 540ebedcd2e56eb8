import {
  CodecRegistry,
  nameProblem,
  validatePayload,
  WireHeaders,
  type EventDefinition,
  type MessageEnvelope,
  type OutgoingMessage,
} from '@omnibus/core';

/** One outbox row as the relay reads it. */
export interface OutboxRow {
  readonly seq: string;
  readonly id: string;
  readonly destination: string;
  readonly type: string;
  readonly partition_key: string | null;
  readonly content_type: string;
  readonly payload: Buffer;
  readonly headers: unknown;
  readonly correlation_id: string | null;
  readonly causation_id: string | null;
  readonly occurred_at: Date;
  /** Remaining delay at claim time (ms), or null. */
  readonly remaining_delay_ms: number | null;
  /** Age of the row at claim time (ms). */
  readonly age_ms: number;
}

/** A row turned back into a message, or the reason it cannot be. */
export type DecodedRow =
  | { readonly ok: true; readonly row: OutboxRow; readonly message: OutgoingMessage }
  | { readonly ok: false; readonly row: OutboxRow; readonly reason: string };

/** What the relay checks a row against. */
export interface RowChecks {
  readonly codecs: CodecRegistry;
  /** Event definitions by name: rows of a listed type are validated against its schema. */
  readonly events: ReadonlyMap<string, EventDefinition<unknown>>;
  /** Largest payload the transport accepts. */
  readonly maxPayloadBytes: number;
  /** Largest delay the transport accepts, or false when it has none. */
  readonly maxDelayMs: number | false;
}

/**
 * Rebuild the envelope stored in a row and prove it still decodes: string-map headers, valid
 * names, a known codec that decodes the payload, the event's schema (when the relay knows the
 * event), and the transport's size and delay limits. Pure apart from the schema's own code.
 */
export async function decodeRow(row: OutboxRow, checks: RowChecks): Promise<DecodedRow> {
  const fail = (reason: string): DecodedRow => ({ ok: false, row, reason });
  const headers = row.headers;
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
    return fail('headers are not an object');
  for (const [name, value] of Object.entries(headers)) {
    if (typeof value !== 'string') return fail(`header "${name}" is not a string`);
  }
  const problem = nameProblem('destination', row.destination) ?? nameProblem('event type', row.type);
  if (problem !== undefined) return fail(problem);
  const codec = checks.codecs.get(row.content_type);
  if (codec === undefined) return fail(`no codec for content type "${row.content_type}"`);
  let decoded: unknown;
  try {
    decoded = codec.decode(row.payload);
  } catch (error) {
    return fail(
      `payload does not decode as ${row.content_type}: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const event = checks.events.get(row.type);
  if (event?.schema !== undefined) {
    const result = await validatePayload(event.schema, decoded);
    if (!result.ok)
      return fail(`payload fails the schema of ${row.type}: ${result.issues.join('; ').slice(0, 500)}`);
  }
  if (row.payload.byteLength > checks.maxPayloadBytes)
    return fail(
      `payload is ${String(row.payload.byteLength)} bytes; the transport accepts at most ${String(checks.maxPayloadBytes)}`,
    );
  const delayMs = row.remaining_delay_ms === null ? 0 : Math.max(0, Math.ceil(row.remaining_delay_ms));
  if (delayMs > 0 && (checks.maxDelayMs === false || delayMs > checks.maxDelayMs))
    return fail(`delay of ${String(delayMs)} ms is not supported by the transport`);
  const { [WireHeaders.eventVersion]: version, ...userHeaders } = headers as Record<string, string>;
  const envelope: MessageEnvelope = {
    id: row.id,
    type: row.type,
    payload: row.payload,
    contentType: row.content_type,
    headers: userHeaders,
    occurredAt: row.occurred_at,
    ...(row.correlation_id === null ? {} : { correlationId: row.correlation_id }),
    ...(row.causation_id === null ? {} : { causationId: row.causation_id }),
    ...(row.partition_key === null ? {} : { partitionKey: row.partition_key }),
    ...(version === undefined ? {} : { version: Number(version) }),
  };
  return { ok: true, row, message: delayMs > 0 ? { envelope, delayMs } : { envelope } };
}
