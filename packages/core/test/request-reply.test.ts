// Request/reply on the in-memory transport: typed replies, timeouts, remote failures.
import { expect } from 'chai';
import {
  createEventBus,
  defineEvent,
  defineRequest,
  EventHandler,
  InMemoryTransport,
  isOmnibusError,
  UnrecoverableError,
  type EventBus,
  type HandlerContext,
} from '../src/index.js';

let sequence = 0;
const unique = (name: string): string => `request.${name}.${String(process.pid)}.${String(++sequence)}`;

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    expect(isOmnibusError(error), String(error)).to.equal(true);
    return error as { code: string; message: string };
  }
  return expect.fail('should reject');
}

describe('request/reply', () => {
  const buses: EventBus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.stop({ drainTimeoutMs: 500 })));
  });

  it('resolves with the typed reply of the one handler (sync and async), correlated by message id, also from inside a handler', async () => {
    const Quote = defineRequest<{ weightKg: number }, { priceCents: number }>(unique('quote'));
    const Checkout = defineEvent<{ weightKg: number }>(unique('checkout'));
    const Tax = defineRequest<{ cents: number }, number>(unique('tax'));
    const fromHandler: { price: number; causation?: string; id: string }[] = [];
    class Shipping {
      @EventHandler(Quote, { group: 'shipping' })
      async quote(request: { weightKg: number }): Promise<{ priceCents: number }> {
        await Promise.resolve();
        return { priceCents: request.weightKg * 150 };
      }
      @EventHandler(Tax, { group: 'shipping' })
      tax(request: { cents: number }): number {
        return Math.round(request.cents * 0.2);
      }
    }
    class Checkouts {
      @EventHandler(Checkout, { group: 'checkout' })
      async on(order: { weightKg: number }, context: HandlerContext): Promise<void> {
        const { priceCents } = await bus.request(Quote, order, { timeoutMs: 2000 });
        fromHandler.push({ price: priceCents, id: context.envelope.id });
      }
    }
    const bus = createEventBus({ transport: { name: 'in-memory' }, handlers: [Shipping, Checkouts] });
    buses.push(bus);
    await bus.start();
    const [a, b, tax] = await Promise.all([
      bus.request(Quote, { weightKg: 2 }, { timeoutMs: 2000 }),
      bus.request(Quote, { weightKg: 3 }),
      bus.request(Tax, { cents: 1000 }),
    ]);
    expect(a).to.deep.equal({ priceCents: 300 });
    expect(b).to.deep.equal({ priceCents: 450 });
    expect(tax).to.equal(200);
    const sent = await bus.publish(Checkout, { weightKg: 4 });
    await new Promise<void>((resolve, reject) => {
      const started = Date.now();
      const poll = (): void => {
        if (fromHandler.length > 0) resolve();
        else if (Date.now() - started > 2000) reject(new Error('the handler never got its reply'));
        else setTimeout(poll, 5);
      };
      poll();
    });
    expect(fromHandler).to.deep.equal([{ price: 600, id: sent.id }]);
    expect(bus.requestStats()).to.include({ pending: 0, lateReplies: 0 });
  });

  it('a handler failure reaches the requester as REQUEST_FAILED (after the last attempt, or at once when unrecoverable), never a hang', async () => {
    const Flaky = defineRequest<{ n: number }, string>(unique('flaky'));
    const Broken = defineRequest<{ n: number }, string>(unique('broken'));
    let flakyCalls = 0;
    class Handlers {
      @EventHandler(Flaky, { group: 'h', retry: { maxAttempts: 2, initialDelayMs: 5, jitter: 0 } })
      flaky(): string {
        flakyCalls += 1;
        throw new Error(`down (${String(flakyCalls)})`);
      }
      @EventHandler(Broken, { group: 'h' })
      broken(): string {
        throw new UnrecoverableError('no such customer', { code: 'CUSTOMER_UNKNOWN' });
      }
    }
    const transport = new InMemoryTransport();
    const bus = createEventBus({ transport, handlers: [Handlers] });
    buses.push(bus);
    await bus.start();
    const flaky = await rejection(bus.request(Flaky, { n: 1 }, { timeoutMs: 3000 }));
    expect(flaky.code).to.equal('REQUEST_FAILED');
    expect(flaky.message).to.equal(`${Flaky.name} request failed in its handler: down (2)`);
    expect(flakyCalls).to.equal(2);
    const broken = await rejection(bus.request(Broken, { n: 1 }, { timeoutMs: 3000 }));
    expect(broken.code).to.equal('REQUEST_FAILED');
    expect((broken as { cause?: unknown }).cause).to.deep.equal({
      code: 'CUSTOMER_UNKNOWN',
      message: 'no such customer',
    });
    // The failed requests are dead-lettered as usual.
    const dead = await transport.broker.waitForDeadLetters(Broken.name, 'h', 1, 2000);
    expect(dead[0]?.info.code).to.equal('CUSTOMER_UNKNOWN');
  });

  it('times out with REQUEST_TIMEOUT naming the request; the late reply is discarded and counted', async () => {
    const Slow = defineRequest<{ delayMs: number }, string>(unique('slow'));
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let finished = false;
    class SlowHandler {
      @EventHandler(Slow, { group: 'slow' })
      async on(): Promise<string> {
        await gate;
        finished = true;
        return 'too late';
      }
    }
    const bus = createEventBus({ transport: { name: 'in-memory' }, handlers: [SlowHandler] });
    buses.push(bus);
    await bus.start();
    const timeout = await rejection(bus.request(Slow, { delayMs: 0 }, { timeoutMs: 50 }));
    expect(timeout.code).to.equal('REQUEST_TIMEOUT');
    expect(timeout.message).to.contain(`no reply to ${Slow.name} request`).and.contain('within 50 ms');
    release();
    const started = Date.now();
    while (bus.requestStats().lateReplies === 0 && Date.now() - started < 2000) {
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(finished).to.equal(true);
    expect(bus.requestStats()).to.include({ pending: 0, lateReplies: 1 });
  });

  it('a request no group subscribes to rejects at once with NO_SUBSCRIBERS; one whose group has no consumer running times out saying no handler answered', async () => {
    const Orphan = defineRequest<{ n: number }, string>(unique('orphan'));
    const transport = new InMemoryTransport();
    const bus = createEventBus({ transport, events: [Orphan] });
    buses.push(bus);
    await bus.start();
    const refused = await rejection(bus.request(Orphan, { n: 1 }, { timeoutMs: 30_000 }));
    expect(refused.code).to.equal('NO_SUBSCRIBERS');
    await transport.provision({
      destinations: [{ name: Orphan.name, groups: [{ name: 'idle', ordered: false }] }],
    });
    const error = await rejection(bus.request(Orphan, { n: 1 }, { timeoutMs: 30 }));
    expect(error.code).to.equal('REQUEST_TIMEOUT');
    expect(error.message).to.contain('no handler answered');
  });

  it('rejects bad arguments at once: an event definition, a bad timeout; and waiting requests with BUS_CLOSED at stop; the reply destination is removed at stop', async () => {
    const Event = defineEvent<{ n: number }>(unique('event'));
    const Hang = defineRequest<{ n: number }, string>(unique('hang'));
    class Hanging {
      @EventHandler(Hang, { group: 'hang', timeoutMs: 60_000 })
      async on(_request: { n: number }, context: HandlerContext): Promise<string> {
        await new Promise((resolve) => context.signal.addEventListener('abort', resolve));
        return 'never';
      }
    }
    const transport = new InMemoryTransport();
    const bus = createEventBus({ transport, handlers: [Hanging], events: [Event, Hang] });
    await bus.start();
    expect((await rejection(bus.request(Event as never, { n: 1 }))).code).to.equal('ARGUMENT_INVALID');
    expect((await rejection(bus.request(Hang, { n: 1 }, { timeoutMs: 0 }))).code).to.equal(
      'ARGUMENT_INVALID',
    );
    const outcome = rejection(bus.request(Hang, { n: 1 }, { timeoutMs: 10_000 }));
    while (bus.requestStats().pending === 0) await new Promise((resolve) => setTimeout(resolve, 1));
    const replyDestination = bus.requestStats().replyDestination ?? 'none';
    expect(replyDestination).to.match(/^omnibus\.replies\./);
    expect(transport.broker.hasDestination(replyDestination)).to.equal(true);
    expect(bus.requestStats().pending).to.equal(1);
    await bus.stop({ drainTimeoutMs: 50 });
    expect((await outcome).code).to.equal('BUS_CLOSED');
    expect(transport.broker.hasDestination(replyDestination), 'reply destination removed at stop').to.equal(
      false,
    );
  });
});
