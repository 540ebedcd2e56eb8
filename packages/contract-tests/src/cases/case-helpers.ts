import { isOmnibusError, type ErrorCode, type TransportCapabilities } from '@omnibus/core';
import { expect } from 'chai';
import type { Consumer } from '../support/case-context.js';

/** Capability gates: each returns the skip reason when the capability is absent. */
export const needs = {
  competingConsumers: (c: TransportCapabilities): string | undefined =>
    c.competingConsumers ? undefined : 'capability competingConsumers=false',
  fanOut: (c: TransportCapabilities): string | undefined =>
    c.fanOut ? undefined : 'capability fanOut=false',
  perKeyOrdering: (c: TransportCapabilities): string | undefined =>
    c.ordering === 'per-key' ? undefined : `capability ordering=${c.ordering}`,
  delayedDelivery: (c: TransportCapabilities): string | undefined =>
    c.delayedDelivery === false ? 'capability delayedDelivery=false' : undefined,
  publishDeduplication: (c: TransportCapabilities): string | undefined =>
    c.publishDeduplication ? undefined : 'capability publishDeduplication=false',
  atomicBatchPublish: (c: TransportCapabilities): string | undefined =>
    c.atomicBatchPublish ? undefined : 'capability atomicBatchPublish=false',
  survivesBrokerRestart: (c: TransportCapabilities): string | undefined =>
    c.survivesBrokerRestart ? undefined : 'capability survivesBrokerRestart=false',
} as const;

/** Combine gates: the first reason wins. */
export function all(
  ...gates: ((c: TransportCapabilities) => string | undefined)[]
): (c: TransportCapabilities) => string | undefined {
  return (c) => {
    for (const g of gates) {
      const reason = g(c);
      if (reason !== undefined) return reason;
    }
    return undefined;
  };
}

/**
 * Await `promise` and assert it rejects with an OmnibusError (checked with `isOmnibusError`,
 * so duplicate package copies work), optionally with `code`. Returns the error.
 */
export async function expectOmnibusRejection(
  promise: Promise<unknown>,
  what: string,
  code?: ErrorCode,
): Promise<{ code: string; message: string; retriable: boolean }> {
  let resolved = false;
  let caught: unknown;
  try {
    await promise;
    resolved = true;
  } catch (error) {
    caught = error;
  }
  expect(resolved, `${what} must reject (never succeed silently)`).to.equal(false);
  expect(isOmnibusError(caught), `${what} must reject with an OmnibusError, got ${String(caught)}`).to.equal(
    true,
  );
  const error = caught as { code: string; message: string; retriable: boolean };
  if (code !== undefined)
    expect(error.code, `${what}: error code (message: ${error.message})`).to.equal(code);
  return error;
}

/** Ids received by the consumers, deduplicated. */
export function receivedIds(...consumers: Consumer[]): Set<string> {
  return new Set(consumers.flatMap((c) => c.ids()));
}

/** Assert the set of received ids equals `expected`, naming missing and extra ids. */
export function expectSameIds(actual: Iterable<string>, expected: Iterable<string>, what: string): void {
  const a = new Set(actual);
  const e = new Set(expected);
  const missing = [...e].filter((id) => !a.has(id));
  const extra = [...a].filter((id) => !e.has(id));
  expect(
    { missing, extra },
    `${what}: missing ${String(missing.length)}, extra ${String(extra.length)}`,
  ).to.deep.equal({ missing: [], extra: [] });
}

/** Bytes 0..255 followed by an invalid UTF-8 sequence: a payload no text codec may touch. */
export function binaryPayload(): Uint8Array {
  const bytes = new Uint8Array(260);
  for (let i = 0; i < 256; i += 1) bytes[i] = i;
  bytes.set([0xc3, 0x28, 0xff, 0xfe], 256);
  return bytes;
}
