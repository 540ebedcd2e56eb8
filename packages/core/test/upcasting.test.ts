// Upcasting: an event definition converts older payload versions before validation.
import { expect } from 'chai';
import { z } from 'zod';
import {
  createEventBus,
  defineEvent,
  EventHandler,
  InMemoryBroker,
  InMemoryTransport,
  isOmnibusError,
  upcastPayload,
  type EventBus,
} from '../src/index.js';
import { MessageSpy } from '../src/testing/index.js';

let sequence = 0;
const unique = (name: string): string => `upcast.${name}.${String(process.pid)}.${String(++sequence)}`;

interface PlacedV3 {
  readonly orderId: string;
  readonly total: { readonly amount: number; readonly currency: string };
  readonly channel: string;
}

const upcasters = {
  1: (v1: { id: string; total: number }) => ({ orderId: v1.id, total: v1.total }),
  2: (v2: { orderId: string; total: number }) => ({
    orderId: v2.orderId,
    total: { amount: v2.total, currency: 'EUR' },
    channel: 'web',
  }),
};

const schema = z.object({
  orderId: z.string(),
  total: z.object({ amount: z.number(), currency: z.string() }),
  channel: z.string(),
});

describe('upcasting', () => {
  describe('defineEvent version and upcasters', () => {
    it('accepts one converter per older version and freezes them', () => {
      const event = defineEvent<PlacedV3>('orders.placed', { version: 3, upcasters });
      expect(event.version).to.equal(3);
      expect(Object.isFrozen(event.upcasters)).to.equal(true);
    });

    const bad: [string, Parameters<typeof defineEvent>[1], RegExp][] = [
      ['a missing step', { version: 3, upcasters: { 1: upcasters[1] } }, /no upcaster from version 2 to 3/],
      [
        'a key at or above the version',
        { version: 2, upcasters: { 1: upcasters[1], 2: upcasters[2] } },
        /upcaster key "2" is not a version below 2/,
      ],
      ['a version that is not a positive integer', { version: 0 }, /version must be an integer ≥ 1, got 0/],
      ['upcasters without a version', { upcasters: { 1: upcasters[1] } }, /upcasters need a version/],
      [
        'a converter that is not a function',
        { version: 2, upcasters: { 1: 'x' } as never },
        /no upcaster from version 1 to 2/,
      ],
    ];
    for (const [what, options, message] of bad) {
      it(`rejects ${what} with CONFIGURATION_INVALID`, () => {
        try {
          defineEvent('orders.placed', options);
          expect.fail('should throw');
        } catch (error) {
          expect(isOmnibusError(error) && error.code).to.equal('CONFIGURATION_INVALID');
          expect((error as Error).message)
            .to.match(message)
            .and.to.contain('event "orders.placed"');
        }
      });
    }
  });

  describe('upcastPayload', () => {
    it('runs every converter from the received version up to the current one', () => {
      expect(upcastPayload('e', 3, upcasters, 1, { id: 'a', total: 5 })).to.deep.equal({
        orderId: 'a',
        total: { amount: 5, currency: 'EUR' },
        channel: 'web',
      });
      expect(upcastPayload('e', 3, upcasters, 2, { orderId: 'b', total: 7 })).to.deep.include({
        orderId: 'b',
      });
    });

    it('reads a message without a version as version 1 and leaves a current one untouched', () => {
      expect(upcastPayload('e', 2, upcasters, undefined, { id: 'a', total: 1 })).to.deep.equal({
        orderId: 'a',
        total: 1,
      });
      const current = { orderId: 'c' };
      expect(upcastPayload('e', 3, upcasters, 3, current)).to.equal(current);
    });

    it('fails unrecoverably with UPCAST_FAILED for newer, invalid versions and throwing converters', () => {
      const failures: [number, RegExp][] = [
        [4, /version 4, newer than this consumer's version 3/],
        [Number.NaN, /invalid version NaN/],
        [0, /invalid version 0/],
      ];
      for (const [version, message] of failures) {
        expect(() => upcastPayload('e', 3, upcasters, version, {}))
          .to.throw(message)
          .with.property('code', 'UPCAST_FAILED');
      }
      expect(() =>
        upcastPayload(
          'e',
          2,
          {
            1: () => {
              throw new Error('boom');
            },
          },
          1,
          {},
        ),
      )
        .to.throw(/upcaster from version 1 threw: boom/)
        .with.property('code', 'UPCAST_FAILED');
    });
  });

  describe('on the in-memory bus', () => {
    const buses: EventBus[] = [];
    afterEach(async () => {
      await Promise.all(buses.splice(0).map((bus) => bus.stop({ drainTimeoutMs: 500 })));
    });

    it('a consumer upgraded first handles what old producers send, validated as the current version; a newer or unconvertible payload is dead-lettered with the reason', async () => {
      const name = unique('placed');
      const Placed = defineEvent<PlacedV3>(name, { version: 3, upcasters, schema });
      const handled: PlacedV3[] = [];
      class Orders {
        @EventHandler(Placed, { group: 'orders' })
        on(order: PlacedV3): void {
          handled.push(order);
        }
      }
      const broker = new InMemoryBroker();
      const bus = createEventBus({ transport: new InMemoryTransport({ broker }), handlers: [Orders] });
      buses.push(bus);
      const spy = new MessageSpy(bus);
      await bus.start();
      const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
      const headers = (id: string, version?: number): Record<string, string | number> => ({
        'ce-type': name,
        'ce-id': id,
        'content-type': 'application/json',
        ...(version === undefined ? {} : { 'omnibus-event-version': version }),
      });
      await broker.publishForeign(name, json({ id: 'unversioned', total: 1 }), headers('m1'));
      await broker.publishForeign(name, json({ orderId: 'v2', total: 2 }), headers('m2', 2));
      const current = await bus.publish(Placed, {
        orderId: 'v3',
        total: { amount: 3, currency: 'USD' },
        channel: 'app',
      });
      await broker.publishForeign(name, json({ anything: true }), headers('m4', 4));
      await broker.publishForeign(name, json({ id: 'no-total' }), headers('m5', 1));
      for (const id of ['m1', 'm2', current.id]) await spy.waitFor({ id, outcome: 'acked' });
      expect(current.version).to.equal(3);
      expect(handled).to.deep.equal([
        { orderId: 'unversioned', total: { amount: 1, currency: 'EUR' }, channel: 'web' },
        { orderId: 'v2', total: { amount: 2, currency: 'EUR' }, channel: 'web' },
        { orderId: 'v3', total: { amount: 3, currency: 'USD' }, channel: 'app' },
      ]);
      const dead = await broker.waitForDeadLetters(name, 'orders', 2, 2000);
      const byId = new Map(dead.map((d) => [d.envelope.id, d.info]));
      expect(byId.get('m4')).to.deep.include({ code: 'UPCAST_FAILED', attempts: 1 });
      expect(byId.get('m4')?.message).to.contain('newer than this consumer');
      // m5 upcasts (total: undefined) and then fails the schema of the current version.
      expect(byId.get('m5')).to.deep.include({ code: 'VALIDATION_FAILED', attempts: 1 });
      spy.dispose();
    });
  });
});
