// decodeRow: a stored row back to the envelope it was written as, or the dead-letter reason.
import { expect } from 'chai';
import { z } from 'zod';
import { CodecRegistry, defineEvent, JsonCodec } from '@omnibus/core';
import { decodeRow, type OutboxRow, type RowChecks } from '../src/relay/outbox-row.js';

const Placed = defineEvent<{ order: number }>('row-test.placed.v1', {
  schema: z.object({ order: z.number() }),
});
const checks: RowChecks = {
  codecs: new CodecRegistry([new JsonCodec()]),
  events: new Map([[Placed.name, Placed as never]]),
  maxPayloadBytes: 1000,
  maxDelayMs: 60_000,
};
const row = (overrides: Partial<OutboxRow> = {}): OutboxRow => ({
  seq: '1',
  id: 'm-1',
  destination: Placed.name,
  type: Placed.name,
  partition_key: 'k',
  content_type: 'application/json',
  payload: Buffer.from('{"order":1}'),
  headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', tenant: 'a' },
  correlation_id: 'c',
  causation_id: null,
  occurred_at: new Date(0),
  remaining_delay_ms: null,
  age_ms: 5,
  ...overrides,
});

describe('outbox-postgres: decodeRow', () => {
  it('rebuilds the envelope exactly (absent optional fields stay absent)', async () => {
    const decoded = await decodeRow(row(), checks);
    if (!decoded.ok) throw new Error(decoded.reason);
    expect(decoded.message.delayMs).to.equal(undefined);
    expect(decoded.message.envelope).to.deep.include({
      id: 'm-1',
      type: Placed.name,
      contentType: 'application/json',
      correlationId: 'c',
      partitionKey: 'k',
    });
    expect(decoded.message.envelope).to.not.have.property('causationId');
    expect(decoded.message.envelope.headers).to.deep.equal(row().headers);
  });

  it('passes the remaining delay, rounded up, and drops an elapsed one', async () => {
    const later = await decodeRow(row({ remaining_delay_ms: 1200.2 }), checks);
    expect(later.ok && later.message.delayMs).to.equal(1201);
    const elapsed = await decodeRow(row({ remaining_delay_ms: -5 }), checks);
    expect(elapsed.ok && elapsed.message.delayMs).to.equal(undefined);
  });

  const reasons: [string, Partial<OutboxRow>, string][] = [
    ['bad JSON', { payload: Buffer.from('{nope') }, 'does not decode'],
    ['unknown content type', { content_type: 'application/x-protobuf' }, 'no codec'],
    ['schema mismatch', { payload: Buffer.from('{"order":"one"}') }, 'schema'],
    ['non-string header', { headers: { n: 1 } }, 'not a string'],
    ['headers not an object', { headers: [] }, 'not an object'],
    ['invalid destination', { destination: 'a b' }, 'destination'],
    [
      'too large for the transport',
      { payload: Buffer.from(`{"order":1,"pad":"${'x'.repeat(1000)}"}`) },
      'at most 1000',
    ],
    ['delay beyond the transport', { remaining_delay_ms: 120_000 }, 'delay'],
  ];
  for (const [what, overrides, reason] of reasons) {
    it(`dead-letters a row with ${what}`, async () => {
      const decoded = await decodeRow(row(overrides), checks);
      expect(decoded.ok).to.equal(false);
      expect(!decoded.ok && decoded.reason).to.contain(reason);
    });
  }
});
