import { expect } from 'chai';
import { z } from 'zod';
import {
  createEnvelope,
  defineEvent,
  destinationOf,
  EventRegistry,
  fromCloudEventAttributes,
  isOmnibusError,
  toCloudEventAttributes,
  validatePayload,
} from '../src/index.js';

describe('defineEvent', () => {
  it('keeps the explicit name and optional destination', () => {
    const placed = defineEvent<{ id: string }>('orders.order-placed.v1');
    expect(placed.name).to.equal('orders.order-placed.v1');
    expect(destinationOf(placed)).to.equal('orders.order-placed.v1');
    expect(destinationOf(defineEvent('a', { destination: 'orders' }))).to.equal('orders');
    expect(Object.isFrozen(placed)).to.equal(true);
  });

  for (const bad of ['', 'has space', 'slash/name', 'ümlaut', 'x'.repeat(201)]) {
    it(`rejects the name ${JSON.stringify(bad.slice(0, 20))} with CONFIGURATION_INVALID`, () => {
      try {
        defineEvent(bad);
        expect.fail('should throw');
      } catch (error) {
        expect(isOmnibusError(error) && error.code).to.equal('CONFIGURATION_INVALID');
      }
    });
  }

  it('rejects a bad destination', () => {
    expect(() => defineEvent('ok', { destination: 'not ok' })).to.throw(/destination of event "ok"/);
  });

  it('validates with any Standard Schema (zod) and reports paths', async () => {
    const schema = z.object({ id: z.string(), total: z.number().positive() });
    const event = defineEvent('orders.v1', { schema });
    expect(await validatePayload(event.schema, { id: 'a', total: 1 })).to.deep.equal({
      ok: true,
      value: { id: 'a', total: 1 },
    });
    const bad = await validatePayload(event.schema, { id: 1, total: -1 });
    expect(bad.ok).to.equal(false);
    expect(!bad.ok && bad.issues.join('|')).to.match(/id: .*\|total: /);
  });
});

describe('EventRegistry', () => {
  it('registers by name and reports a conflicting second definition', () => {
    const registry = new EventRegistry();
    const a = defineEvent('a.v1');
    expect(registry.register(a)).to.equal(undefined);
    expect(registry.register(a)).to.equal(undefined);
    expect(registry.register(defineEvent('a.v1'))).to.equal(undefined);
    expect(registry.register(defineEvent('a.v1', { destination: 'elsewhere' }))).to.match(
      /two different definitions of event "a.v1"/,
    );
    expect(registry.get('a.v1')).to.equal(a);
    expect(registry.has('b')).to.equal(false);
    expect(registry.all()).to.deep.equal([a]);
  });
});

describe('envelopes and CloudEvents', () => {
  it('creates frozen envelopes with a UUID and a timestamp', () => {
    const envelope = createEnvelope({
      type: 't',
      payload: new Uint8Array([1]),
      contentType: 'application/json',
    });
    expect(envelope.id).to.match(/^[0-9a-f-]{36}$/);
    expect(envelope.occurredAt).to.be.instanceOf(Date);
    expect(Object.isFrozen(envelope)).to.equal(true);
    expect('correlationId' in envelope).to.equal(false);
  });

  it('maps to CloudEvents 1.0 attributes and back', () => {
    const envelope = createEnvelope({
      id: 'm-1',
      type: 'orders.order-placed.v1',
      payload: new Uint8Array([123, 125]),
      contentType: 'application/json',
      headers: { tenant: 'acme' },
      occurredAt: new Date('2024-01-02T03:04:05.000Z'),
      correlationId: 'c-1',
      causationId: 'p-1',
      partitionKey: 'k',
    });
    const attributes = toCloudEventAttributes(envelope);
    expect(attributes).to.deep.equal({
      specversion: '1.0',
      id: 'm-1',
      source: 'urn:omnibus',
      type: 'orders.order-placed.v1',
      time: '2024-01-02T03:04:05.000Z',
      datacontenttype: 'application/json',
      correlationid: 'c-1',
      causationid: 'p-1',
      partitionkey: 'k',
    });
    expect(fromCloudEventAttributes(attributes, envelope.payload, envelope.headers)).to.deep.equal({
      ...envelope,
      headers: { tenant: 'acme' },
    });
    const minimal = fromCloudEventAttributes({ id: 'x', source: 's', type: 't' }, new Uint8Array());
    expect(minimal.contentType).to.equal('application/octet-stream');
    expect(minimal.occurredAt.getTime()).to.equal(0);
  });
});
