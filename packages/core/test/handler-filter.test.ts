// Content-based filters on handlers: non-matching messages are acked as `filtered`.
import { expect } from 'chai';
import {
  ConfigurationError,
  createEventBus,
  defineEvent,
  EventHandler,
  InMemoryTransport,
  matchesFilter,
  type EventBus,
  type MessageSettledEvent,
} from '../src/index.js';
import { MessageSpy } from '../src/testing/index.js';
import { FakeTransport } from './support/fake-transport.js';

let sequence = 0;
const unique = (name: string): string => `filter.${name}.${String(process.pid)}.${String(++sequence)}`;

interface Order {
  readonly id: string;
  readonly total: number;
}

describe('handler filters', () => {
  describe('matchesFilter', () => {
    it('needs every listed header with its exact value, then the predicate', () => {
      const filter = { headers: { region: 'eu' }, where: (o: unknown) => (o as Order).total > 10 };
      expect(matchesFilter(filter, 'H.on', { total: 11 }, { region: 'eu', other: 'x' })).to.equal(true);
      expect(matchesFilter(filter, 'H.on', { total: 11 }, { region: 'us' })).to.equal(false);
      expect(matchesFilter(filter, 'H.on', { total: 11 }, {})).to.equal(false);
      expect(matchesFilter(filter, 'H.on', { total: 5 }, { region: 'eu' })).to.equal(false);
      expect(matchesFilter({}, 'H.on', {}, {})).to.equal(true);
    });

    it('a throwing or non-boolean predicate fails unrecoverably with FILTER_FAILED', () => {
      const thrower = {
        where: (): boolean => {
          throw new Error('no total');
        },
      };
      expect(() => matchesFilter(thrower, 'H.on', {}, {}))
        .to.throw('filter of H.on threw: no total')
        .with.property('code', 'FILTER_FAILED');
      const asyncFilter = { where: (() => Promise.resolve(true)) as unknown as () => boolean };
      expect(() => matchesFilter(asyncFilter, 'H.on', {}, {}))
        .to.throw(/returned object, not a boolean/)
        .with.property('code', 'FILTER_FAILED');
    });
  });

  describe('on the in-memory bus', () => {
    const buses: EventBus[] = [];
    afterEach(async () => {
      await Promise.all(buses.splice(0).map((bus) => bus.stop({ drainTimeoutMs: 500 })));
    });

    it('only matching messages reach the handler; the others are acked as filtered (counted, never dead-lettered); another group still gets every message', async () => {
      const Placed = defineEvent<Order>(unique('placed'));
      const big: string[] = [];
      const all: string[] = [];
      class BigEuOrders {
        @EventHandler(Placed, {
          group: 'big-eu',
          filter: { headers: { region: 'eu' }, where: (order) => order.total >= 100 },
        })
        on(order: Order): void {
          big.push(order.id);
        }
      }
      class Audit {
        @EventHandler(Placed, { group: 'audit' })
        on(order: Order): void {
          all.push(order.id);
        }
      }
      const transport = new InMemoryTransport();
      const bus = createEventBus({ transport, handlers: [BigEuOrders, Audit] });
      buses.push(bus);
      const spy = new MessageSpy(bus);
      const settled: MessageSettledEvent[] = [];
      bus.on('message.settled', (event) => {
        if (event.group === 'big-eu') settled.push(event);
      });
      await bus.start();
      const sends: [string, number, string | undefined][] = [
        ['a', 150, 'eu'],
        ['b', 150, 'us'],
        ['c', 50, 'eu'],
        ['d', 500, undefined],
        ['e', 100, 'eu'],
      ];
      for (const [id, total, region] of sends) {
        await bus.publish(Placed, { id, total }, region === undefined ? {} : { headers: { region } });
      }
      await spy.waitFor((r) => r.kind !== 'published' && r.kind !== 'received' && settled.length >= 5);
      await spy.waitFor(() => all.length >= 5);
      expect(big).to.deep.equal(['a', 'e']);
      expect(all).to.have.members(['a', 'b', 'c', 'd', 'e']);
      expect(settled.map((s) => s.outcome).sort()).to.deep.equal([
        'acked',
        'acked',
        'filtered',
        'filtered',
        'filtered',
      ]);
      const filtered = settled.find((s) => s.outcome === 'filtered');
      expect(filtered?.reason).to.deep.equal({
        code: 'FILTERED',
        message: 'filter of BigEuOrders.on did not match',
      });
      expect(filtered?.handler).to.equal('BigEuOrders.on');
      const dead = transport.broker.readDeadLetters(Placed.name, 'big-eu');
      expect(dead).to.deep.equal([]);
      spy.dispose();
    });

    it('a filter that throws dead-letters the message with FILTER_FAILED at the first attempt', async () => {
      const Placed = defineEvent<Order>(unique('placed'));
      class Fragile {
        @EventHandler(Placed, {
          group: 'fragile',
          filter: {
            where: (order) => {
              if (order.total === undefined) throw new Error('order has no total');
              return true;
            },
          },
        })
        on(): void {}
      }
      const transport = new InMemoryTransport();
      const bus = createEventBus({ transport, handlers: [Fragile] });
      buses.push(bus);
      await bus.start();
      await bus.publish(Placed, { id: 'x' } as Order);
      const [dead] = await transport.broker.waitForDeadLetters(Placed.name, 'fragile', 1, 2000);
      expect(dead?.info).to.deep.include({
        code: 'FILTER_FAILED',
        message: 'filter of Fragile.on threw: order has no total',
        attempts: 1,
      });
    });

    it('a malformed filter fails start with one ConfigurationError listing every problem', async () => {
      const Placed = defineEvent<Order>(unique('placed'));
      class Bad {
        @EventHandler(Placed, {
          group: 'bad',
          filter: {
            headers: { 'ce-type': 'x', n: 1 as unknown as string },
            where: 'no' as never,
            extra: 1,
          } as never,
        })
        on(): void {}
      }
      const bus = createEventBus({ transport: { name: 'in-memory' }, handlers: [Bad] });
      try {
        await bus.start();
        expect.fail('start should reject');
      } catch (error) {
        expect(error).to.be.instanceOf(ConfigurationError);
        const problems = (error as ConfigurationError).problems.map((p) => p.problem);
        expect(problems).to.deep.equal([
          'Bad.on: unknown filter option "extra" (known: headers, where)',
          'Bad.on: filter.headers["ce-type"] is a reserved header; filter on application headers',
          'Bad.on: filter.headers["n"] must be a string',
          'Bad.on: filter.where must be a function',
        ]);
      }
    });
  });
  describe('header filters in the provisioned topology (for push-down)', () => {
    it('a group carries the distinct header filters of its handlers, none once one handler has none', async () => {
      const destination = unique('d');
      const A = defineEvent<Order>(unique('a'), { destination });
      const B = defineEvent<Order>(unique('b'), { destination });
      class Filtered {
        @EventHandler(A, { group: 'both', filter: { headers: { region: 'eu', tier: 'gold' } } })
        a(): void {}
        @EventHandler(B, { group: 'both', filter: { headers: { tier: 'gold', region: 'eu' } } })
        b(): void {}
        @EventHandler(A, { group: 'mixed', filter: { headers: { region: 'us' } } })
        c(): void {}
        @EventHandler(B, { group: 'mixed', filter: { where: () => true } })
        d(): void {}
        @EventHandler(A, { group: 'two', filter: { headers: { region: 'us' } } })
        e(): void {}
        @EventHandler(B, { group: 'two', filter: { headers: { region: 'eu' }, where: () => true } })
        f(): void {}
        @EventHandler(A, { group: 'empty', filter: { headers: {} } })
        g(): void {}
      }
      const transport = new FakeTransport();
      const bus = createEventBus({ transport, handlers: [Filtered] });
      await bus.start();
      try {
        const groups = transport.provisioned[0]?.destinations.find((d) => d.name === destination)?.groups;
        expect(groups).to.deep.equal([
          { name: 'both', ordered: false, headerFilters: [{ region: 'eu', tier: 'gold' }] },
          { name: 'mixed', ordered: false },
          { name: 'two', ordered: false, headerFilters: [{ region: 'us' }, { region: 'eu' }] },
          { name: 'empty', ordered: false },
        ]);
      } finally {
        await bus.stop();
      }
    });
  });
});
