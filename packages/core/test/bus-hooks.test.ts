// Publish middleware, delivery interceptors and plugins, on the real in-memory transport.
import { AsyncLocalStorage } from 'node:async_hooks';
import { expect } from 'chai';
import {
  createEventBus,
  defineEvent,
  EventHandler,
  InMemoryBroker,
  InMemoryTransport,
  OmnibusError,
  UnrecoverableError,
  withHeaders,
  type DeliveryReport,
  type EventBus,
  type EventBusConfig,
  type HandlerContext,
  type SubscriptionInfo,
} from '../src/index.js';
import { waitFor } from '../src/testing/index.js';

let sequence = 0;
const unique = (name: string): string => `hooks.${name}.${String(process.pid)}.${String(++sequence)}`;
const fastRetry = { maxAttempts: 2, initialDelayMs: 5, multiplier: 1, maxDelayMs: 5, jitter: 0 };

describe('bus hooks', () => {
  const buses: EventBus[] = [];
  const start = async (config: EventBusConfig): Promise<EventBus> => {
    const bus = createEventBus({
      transport: new InMemoryTransport({ broker: new InMemoryBroker() }),
      ...config,
    });
    buses.push(bus);
    await bus.start();
    return bus;
  };
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.stop({ drainTimeoutMs: 500 })));
  });

  it('publish middleware runs outermost-first around the transport call and can add headers the consumer receives', async () => {
    const Ping = defineEvent<{ n: number }>(unique('ping'));
    const seen: string[] = [];
    class Handler {
      @EventHandler(Ping, { group: 'g' })
      on(_p: { n: number }, context: HandlerContext): void {
        seen.push(`${context.envelope.headers['x-a'] ?? '-'}/${context.envelope.headers['x-b'] ?? '-'}`);
      }
    }
    const order: string[] = [];
    const bus = await start({
      handlers: [Handler],
      publishMiddleware: [
        async (context, next) => {
          order.push(`a:${context.destination}:${context.transport}:${String(context.messages.length)}`);
          context.messages = context.messages.map((m) => withHeaders(m, { 'x-a': '1' }));
          await next();
          order.push('a:after');
        },
      ],
      plugins: [
        {
          name: 'b',
          publish: async (context, next) => {
            order.push('b');
            context.messages = context.messages.map((m) => withHeaders(m, { 'x-b': '2' }));
            await next();
          },
        },
      ],
    });
    const envelope = await bus.publish(Ping, { n: 1 });
    expect(envelope.headers['x-a']).to.equal('1');
    expect(envelope.headers['x-b']).to.equal('2');
    expect(order).to.deep.equal([`a:${Ping.name}:in-memory:1`, 'b', 'a:after']);
    await waitFor(() => seen.length === 1);
    expect(seen).to.deep.equal(['1/2']);
  });

  it('a publish middleware sees the transport error and can fail a publish; one that skips next() skips the transport', async () => {
    const Ping = defineEvent<{ n: number }>(unique('ping'));
    let skip = false;
    const errors: unknown[] = [];
    const published: string[] = [];
    const bus = await start({
      events: [Ping],
      publishMiddleware: [
        async (_context, next) => {
          if (skip) return;
          try {
            await next();
          } catch (error) {
            errors.push(error);
            throw error;
          }
        },
        async () => {
          throw new OmnibusError('PUBLISH_FAILED', 'refused by middleware');
        },
      ],
    });
    bus.on('message.published', (event) => {
      published.push(event.envelope.id);
    });
    const failure = await bus.publish(Ping, { n: 1 }).catch((error: unknown) => error);
    expect((failure as OmnibusError).code).to.equal('PUBLISH_FAILED');
    expect(errors).to.have.length(1);
    skip = true;
    await bus.publish(Ping, { n: 2 });
    expect(published).to.deep.equal([]);
  });

  it('delivery interceptors wrap each attempt, keep their async context through the handler and get the settlement report', async () => {
    const Job = defineEvent<{ poison: boolean }>(unique('job'));
    const storage = new AsyncLocalStorage<string>();
    const inHandler: (string | undefined)[] = [];
    let attempts = 0;
    class Handler {
      @EventHandler(Job, { group: 'workers', retry: fastRetry })
      on(payload: { poison: boolean }): void {
        inHandler.push(storage.getStore());
        if (payload.poison) throw new UnrecoverableError('poison');
        if (++attempts === 1) throw new Error('flaky');
      }
    }
    const reports: (Partial<DeliveryReport> & { attempt: number; info: SubscriptionInfo })[] = [];
    const bus = await start({
      handlers: [Handler],
      deliveryInterceptors: [
        async (delivery, next, info) => {
          const report = await storage.run(`attempt-${String(delivery.deliveryAttempt)}`, next);
          reports.push({ ...report, attempt: delivery.deliveryAttempt, info });
          return report;
        },
      ],
    });
    await bus.publish(Job, { poison: false });
    await waitFor(() => reports.length === 2);
    await bus.publish(Job, { poison: true });
    await waitFor(() => reports.length === 3);
    expect(inHandler).to.deep.equal(['attempt-1', 'attempt-2', 'attempt-1']);
    expect(reports.map((r) => [r.attempt, r.outcome, r.settled, r.reason?.code, r.delayMs])).to.deep.equal([
      [1, 'retried', true, 'HANDLER_FAILED', 5],
      [2, 'acked', true, undefined, undefined],
      [1, 'dead-lettered', true, 'UNRECOVERABLE', undefined],
    ]);
    expect((reports[0]?.error as Error).message).to.equal('flaky');
    expect(reports[0]?.handler).to.equal('Handler.on');
    expect(reports[0]?.info).to.deep.include({
      transport: 'in-memory',
      destination: Job.name,
      group: 'workers',
    });
  });

  it('an interceptor that throws is logged and never loses the delivery', async () => {
    const Job = defineEvent<{ n: number }>(unique('job'));
    const handled: number[] = [];
    const warnings: string[] = [];
    class Handler {
      @EventHandler(Job, { group: 'workers' })
      on(payload: { n: number }): void {
        handled.push(payload.n);
      }
    }
    await start({
      handlers: [Handler],
      logger: {
        debug: () => undefined,
        info: () => undefined,
        warn: (message: string) => {
          warnings.push(message);
        },
        error: () => undefined,
      },
      deliveryInterceptors: [
        (delivery) => {
          if (delivery.envelope.headers.when === 'before') throw new Error('before next');
          return Promise.reject(new Error('never calls next'));
        },
        async (_delivery, next) => {
          const report = await next();
          throw new Error(`after next (${String(report.outcome)})`);
        },
      ],
    }).then((bus) =>
      Promise.all([bus.publish(Job, { n: 1 }, { headers: { when: 'before' } }), bus.publish(Job, { n: 2 })]),
    );
    await waitFor(() => handled.length === 2 && warnings.length === 4);
    expect(handled.sort()).to.deep.equal([1, 2]);
    expect(warnings.every((w) => w === 'delivery interceptor failed')).to.equal(true);
  });

  it("a plugin's hooks are skipped for every operation while its active() answers false", async () => {
    const Job = defineEvent<{ n: number }>(unique('job'));
    const handled: number[] = [];
    class Handler {
      @EventHandler(Job, { group: 'workers' })
      on(payload: { n: number }): void {
        handled.push(payload.n);
      }
    }
    let on = false;
    const calls: string[] = [];
    const bus = await start({
      handlers: [Handler],
      plugins: [
        {
          name: 'toggled',
          active: () => on,
          publish: async (_context, next) => {
            calls.push('publish');
            await next();
          },
          deliver: (_delivery, next) => {
            calls.push('deliver');
            return next();
          },
        },
      ],
    });
    await bus.publish(Job, { n: 1 });
    await waitFor(() => handled.length === 1);
    expect(calls).to.deep.equal([]);
    on = true;
    await bus.publish(Job, { n: 2 });
    await waitFor(() => handled.length === 2);
    expect(calls).to.deep.equal(['publish', 'deliver']);
  });
});
