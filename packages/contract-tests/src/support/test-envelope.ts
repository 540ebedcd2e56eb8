import type { MessageEnvelope, MessageHeaders } from '@omnibus/core';

/** Event type stamped on every message the suite publishes. */
export const CONTRACT_EVENT_TYPE = 'omnibus.contract-test.v1';

/** Header naming the case that published a message (helps when reading a broker by hand). */
export const CONTRACT_CASE_HEADER = 'x-contract-case';

/** Fields a case may set on a test envelope. */
export interface TestEnvelopeOverrides {
  readonly id?: string;
  readonly type?: string;
  readonly payload?: Uint8Array;
  readonly contentType?: string;
  readonly headers?: MessageHeaders;
  readonly occurredAt?: Date;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly partitionKey?: string;
}

/**
 * Build an envelope with a unique id (`<prefix>-<n>`), a small JSON payload naming it, the
 * case header, and the given overrides. Optional attributes are omitted when not given.
 */
export function buildTestEnvelope(
  id: string,
  caseId: string,
  overrides: TestEnvelopeOverrides = {},
): MessageEnvelope {
  const envelope: { -readonly [K in keyof MessageEnvelope]: MessageEnvelope[K] } = {
    id: overrides.id ?? id,
    type: overrides.type ?? CONTRACT_EVENT_TYPE,
    payload: overrides.payload ?? new TextEncoder().encode(JSON.stringify({ id, case: caseId })),
    contentType: overrides.contentType ?? 'application/json',
    headers: overrides.headers ?? { [CONTRACT_CASE_HEADER]: caseId },
    occurredAt: overrides.occurredAt ?? new Date(),
  };
  if (overrides.correlationId !== undefined) envelope.correlationId = overrides.correlationId;
  if (overrides.causationId !== undefined) envelope.causationId = overrides.causationId;
  if (overrides.partitionKey !== undefined) envelope.partitionKey = overrides.partitionKey;
  return envelope;
}

/** Byte-wise equality of two payloads. */
export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  for (let i = 0; i < a.byteLength; i += 1) if (a[i] !== b[i]) return false;
  return true;
}

/** Short description of where two payloads first differ (for assertion messages). */
export function describeBytesDiff(expected: Uint8Array, actual: Uint8Array): string {
  if (expected.byteLength !== actual.byteLength) {
    return `length ${String(actual.byteLength)} instead of ${String(expected.byteLength)}`;
  }
  for (let i = 0; i < expected.byteLength; i += 1) {
    if (expected[i] !== actual[i])
      return `byte ${String(i)} is ${String(actual[i])} instead of ${String(expected[i])}`;
  }
  return 'identical';
}
