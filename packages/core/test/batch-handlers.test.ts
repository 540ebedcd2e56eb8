// Batch handlers: up to maxSize messages per call, each settled on its own.
import { expect } from 'chai';
import {
  ConfigurationError,
  createEventBus,
  defineEvent,
  defineRequest,
  EventHandler,
  InMemoryTransport,
  runInHandlerContext,
  UnrecoverableError,
  type BatchContext,
  type BatchEntry,
  type EventBus,
  type HandlerContext,
  type MessageSettledEvent,
} from '../src/index.js';
import { MessageSpy } from '../src/testing/index.js';

let sequence = 0;
const unique = (name: string): string => `batch.${name}.${String(process.pid)}.${String(++sequence)}`;

interface Item {
  readonly n: number;
}

const quickRetry = { initialDelayMs: 1, maxDelayMs: 1, jitter: 0 };

describe('batch handlers', () => {
  const buses: EventBus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.stop({ drainTimeoutMs: 1000 })));
  });

  function settledIn(bus: EventBus, group: string): MessageSettledEvent[] {
    const settled: MessageSettledEvent[] = [];
    bus.on('message.settled', (event) => {
      if (event.group === group) settled.push(event);
    });
    return settled;
  }

  it('hands over full batches of at most maxSize (the subscription takes concurrency × maxSize at once) and acks every entry when the handler returns', async () => {
    const Added = defineEvent<Item>(unique('added'));
    const batches: number[][] = [];
    let context: BatchContext | undefined;
    class Ledger {
      @EventHandler(Added, { group: 'ledger', batch: { maxSize: 4, maxWaitMs: 5_000 } })
      async on(entries: readonly BatchEntry<Item>[], shared: BatchContext): Promise<void> {
        batches.push(entries.map((entry) => entry.payload.n));
        context = shared;
        await Promise.resolve();
      }
    }
    const bus = createEventBus({ transport: new InMemoryTransport(), handlers: [Ledger] });
    buses.push(bus);
    const settled = settledIn(bus, 'ledger');
    const spy = new MessageSpy(bus);
    await bus.start();
    await bus.publishBatch(
      Added,
      Array.from({ length: 8 }, (_, n) => ({ n })),
    );
    await spy.waitFor(() => settled.length >= 8);
    expect(batches, 'two full batches, in arrival order').to.deep.equal([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
    ]);
    expect(settled.map((s) => s.outcome)).to.deep.equal(Array(8).fill('acked'));
    expect(settled.every((s) => s.handler === 'Ledger.on')).to.equal(true);
    expect(context).to.include({ handler: 'Ledger.on', group: 'ledger', destination: Added.name });
    expect(context?.signal.aborted).to.equal(false);
    expect(bus.health().subscriptions[0]?.concurrency, 'subscription concurrency').to.equal(4);
    spy.dispose();
  });

  it('hands over a batch that is not full maxWaitMs after its first message arrived', async () => {
    const Added = defineEvent<Item>(unique('added'));
    const batches: number[][] = [];
    class Ledger {
      @EventHandler(Added, { group: 'ledger', batch: { maxSize: 50, maxWaitMs: 20 } })
      on(entries: readonly BatchEntry<Item>[]): void {
        batches.push(entries.map((entry) => entry.payload.n));
      }
    }
    const bus = createEventBus({ transport: new InMemoryTransport(), handlers: [Ledger] });
    buses.push(bus);
    const settled = settledIn(bus, 'ledger');
    const spy = new MessageSpy(bus);
    await bus.start();
    await bus.publishBatch(Added, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    await spy.waitFor(() => settled.length >= 3);
    expect(batches).to.deep.equal([[1, 2, 3]]);
    spy.dispose();
  });

  it('settles each entry on its own: failed entries follow the retry and dead-letter policy, the others are acked', async () => {
    const Added = defineEvent<Item>(unique('added'));
    const transport = new InMemoryTransport();
    const seen: { n: number; attempt: number }[] = [];
    class Ledger {
      @EventHandler(Added, {
        group: 'ledger',
        batch: { maxSize: 5, maxWaitMs: 20 },
        retry: { maxAttempts: 3, ...quickRetry },
      })
      on(entries: readonly BatchEntry<Item>[]): void {
        for (const entry of entries) {
          const { n } = entry.payload;
          seen.push({ n, attempt: entry.context.deliveryAttempt });
          if (n === 1) entry.fail(new UnrecoverableError(`item ${String(n)} is poison`, { code: 'POISON' }));
          if (n === 2 && entry.context.deliveryAttempt === 1) entry.fail(new Error('busy, try again'));
          if (n === 3) entry.fail(new Error('always fails'));
        }
      }
    }
    const bus = createEventBus({ transport, handlers: [Ledger] });
    buses.push(bus);
    const settled = settledIn(bus, 'ledger');
    const spy = new MessageSpy(bus);
    await bus.start();
    await bus.publishBatch(Added, [{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    const dead = await transport.broker.waitForDeadLetters(Added.name, 'ledger', 2, 5_000);
    await spy.waitFor(() => settled.filter((s) => s.outcome !== 'retried').length >= 5);
    const final = new Map(
      settled
        .filter((s) => s.outcome !== 'retried')
        .map((s) => [(JSON.parse(new TextDecoder().decode(s.envelope.payload)) as Item).n, s]),
    );
    expect(final.get(0)?.outcome).to.equal('acked');
    expect(final.get(4)?.outcome).to.equal('acked');
    expect(final.get(1)).to.deep.include({ outcome: 'dead-lettered', attempt: 1 });
    expect(final.get(1)?.reason?.code).to.equal('POISON');
    expect(final.get(2)).to.deep.include({ outcome: 'acked', attempt: 2 });
    expect(final.get(3)).to.deep.include({ outcome: 'dead-lettered', attempt: 3 });
    expect(final.get(3)?.reason?.message).to.contain('always fails');
    expect(settled.filter((s) => s.outcome === 'retried').length, 'retries: 2 once, 3 twice').to.equal(3);
    expect(dead.map((d) => d.info.code).sort()).to.deep.equal(['HANDLER_FAILED', 'POISON']);
    expect(seen.filter((s) => s.n === 0).length, 'an acked entry is not handled again').to.equal(1);
    spy.dispose();
  });

  it('a throwing batch handler fails every entry not failed on its own with the thrown error', async () => {
    const Added = defineEvent<Item>(unique('added'));
    const transport = new InMemoryTransport();
    class Ledger {
      @EventHandler(Added, {
        group: 'ledger',
        batch: { maxSize: 3, maxWaitMs: 20 },
        retry: { maxAttempts: 1 },
      })
      on(entries: readonly BatchEntry<Item>[]): Promise<void> {
        entries[0]?.fail(new UnrecoverableError('the first one', { code: 'FIRST_BAD' }));
        return Promise.reject(new Error('database down'));
      }
    }
    const bus = createEventBus({ transport, handlers: [Ledger] });
    buses.push(bus);
    await bus.start();
    await bus.publishBatch(Added, [{ n: 0 }, { n: 1 }, { n: 2 }]);
    const dead = await transport.broker.waitForDeadLetters(Added.name, 'ledger', 3, 5_000);
    expect(dead.map((d) => `${d.info.code}: ${d.info.message}`).sort()).to.deep.equal([
      'FIRST_BAD: the first one',
      'HANDLER_FAILED: database down',
      'HANDLER_FAILED: database down',
    ]);
  });

  it('runs validation and the filter per message before batching: filtered messages are acked alone and never join a batch', async () => {
    const Added = defineEvent<Item>(unique('added'));
    const batched: number[] = [];
    class Ledger {
      @EventHandler(Added, {
        group: 'ledger',
        batch: { maxSize: 10, maxWaitMs: 20 },
        filter: { where: (item) => item.n % 2 === 0 },
      })
      on(entries: readonly BatchEntry<Item>[]): void {
        batched.push(...entries.map((entry) => entry.payload.n));
      }
    }
    const bus = createEventBus({ transport: new InMemoryTransport(), handlers: [Ledger] });
    buses.push(bus);
    const settled = settledIn(bus, 'ledger');
    const spy = new MessageSpy(bus);
    await bus.start();
    await bus.publishBatch(Added, [{ n: 0 }, { n: 1 }, { n: 2 }, { n: 3 }]);
    await spy.waitFor(() => settled.length >= 4);
    expect(batched).to.deep.equal([0, 2]);
    expect(settled.map((s) => s.outcome).sort()).to.deep.equal(['acked', 'acked', 'filtered', 'filtered']);
    spy.dispose();
  });

  it('keeps per-key order in an ordered group: a batch holds at most one message per key', async () => {
    const Moved = defineEvent<{ key: string; seq: number }>(unique('moved'));
    const batches: string[][] = [];
    class Tracker {
      @EventHandler(Moved, {
        group: 'tracker',
        ordered: true,
        concurrency: 2,
        batch: { maxSize: 3, maxWaitMs: 10 },
      })
      async on(entries: readonly BatchEntry<{ key: string; seq: number }>[]): Promise<void> {
        batches.push(entries.map((entry) => `${entry.payload.key}${String(entry.payload.seq)}`));
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
    const bus = createEventBus({ transport: new InMemoryTransport(), handlers: [Tracker] });
    buses.push(bus);
    const settled = settledIn(bus, 'tracker');
    const spy = new MessageSpy(bus);
    await bus.start();
    const sends = ['a', 'b', 'a', 'c', 'a', 'b', 'c', 'a'];
    const counters = new Map<string, number>();
    await bus.publishBatch(
      Moved,
      sends.map((key) => {
        const seq = (counters.get(key) ?? 0) + 1;
        counters.set(key, seq);
        return { key, seq };
      }),
      (payload) => ({ partitionKey: payload.key }),
    );
    await spy.waitFor(() => settled.length >= sends.length);
    for (const batch of batches) {
      const keys = batch.map((entry) => entry.slice(0, 1));
      expect(new Set(keys).size, `one message per key in ${batch.join(',')}`).to.equal(keys.length);
    }
    const handled = batches.flat();
    for (const key of ['a', 'b', 'c']) {
      const order = handled.filter((entry) => entry.startsWith(key));
      expect(order, `order of key ${key}`).to.deep.equal(
        Array.from({ length: counters.get(key) ?? 0 }, (_, i) => `${key}${String(i + 1)}`),
      );
    }
    spy.dispose();
  });

  it('runs outside every message’s handler context; runInHandlerContext(entry.context) stamps causation and correlation', async () => {
    const Added = defineEvent<Item>(unique('added'));
    const Booked = defineEvent<Item>(unique('booked'));
    const booked: HandlerContext[] = [];
    let outside: string | undefined = 'unset';
    class Ledger {
      @EventHandler(Added, { group: 'ledger', batch: { maxSize: 2, maxWaitMs: 20 } })
      async on(entries: readonly BatchEntry<Item>[]): Promise<void> {
        const plain = await bus.publish(Booked, { n: -1 });
        outside = plain.causationId;
        for (const entry of entries) {
          await runInHandlerContext(entry.context, () => bus.publish(Booked, entry.payload));
        }
      }
    }
    class Books {
      @EventHandler(Booked, { group: 'books' })
      on(_item: Item, context: HandlerContext): void {
        booked.push(context);
      }
    }
    const bus = createEventBus({ transport: new InMemoryTransport(), handlers: [Ledger, Books] });
    buses.push(bus);
    const spy = new MessageSpy(bus);
    await bus.start();
    const first = await bus.publish(Added, { n: 1 }, { correlationId: 'conv-7' });
    const second = await bus.publish(Added, { n: 2 });
    await spy.waitFor(() => booked.length >= 3);
    expect(outside, 'a publish outside runInHandlerContext has no causation').to.equal(undefined);
    const byCause = new Map(booked.map((c) => [c.envelope.causationId, c.envelope]));
    expect(byCause.get(first.id)?.correlationId).to.equal('conv-7');
    expect(byCause.get(second.id)?.correlationId).to.equal(second.id);
    spy.dispose();
  });

  it('stop hands over a waiting batch at once instead of waiting maxWaitMs', async () => {
    const Added = defineEvent<Item>(unique('added'));
    const batches: number[][] = [];
    class Ledger {
      @EventHandler(Added, { group: 'ledger', batch: { maxSize: 10, maxWaitMs: 25_000 } })
      on(entries: readonly BatchEntry<Item>[]): void {
        batches.push(entries.map((entry) => entry.payload.n));
      }
    }
    const transport = new InMemoryTransport();
    const bus = createEventBus({ transport, handlers: [Ledger] });
    const spy = new MessageSpy(bus);
    await bus.start();
    await bus.publishBatch(Added, [{ n: 1 }, { n: 2 }]);
    await spy.waitFor({ outcome: 'received', group: 'ledger' });
    await bus.stop({ drainTimeoutMs: 20_000 });
    expect(batches).to.deep.equal([[1, 2]]);
    expect(transport.broker.stats(Added.name, 'ledger')).to.include({ ready: 0, inFlight: 0 });
    spy.dispose();
  });

  it('rejects bad batch options and a batch on a request at start, with every problem named', async () => {
    const Added = defineEvent<Item>(unique('added'));
    const Quote = defineRequest<Item, number>(unique('quote'));
    class Bad {
      @EventHandler(Added, { group: 'a', batch: { maxSize: 0, maxWaitMs: 10 } })
      zero(): void {}
      @EventHandler(Added, { group: 'b', timeoutMs: 100, batch: { maxSize: 5, maxWaitMs: 100 } })
      slow(): void {}
      @EventHandler(Quote, { group: 'c', batch: { maxSize: 5, maxWaitMs: 10 } })
      quote(): void {}
    }
    const bus = createEventBus({ transport: new InMemoryTransport(), handlers: [Bad] });
    const error = await bus.start().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(ConfigurationError);
    const message = (error as Error).message;
    expect(message).to.contain('batch.maxSize must be an integer from 1 to 1000, got 0');
    expect(message).to.contain('batch.maxWaitMs (100) must be below timeoutMs (100)');
    expect(message).to.contain('handles request');
  });
});
