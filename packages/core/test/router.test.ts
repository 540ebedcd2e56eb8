import { expect } from 'chai';
import {
  createEnvelope,
  createEventBus,
  EventHandler,
  JsonCodec,
  RetryLaterError,
  UnrecoverableError,
  type EventBus,
  type EventBusConfig,
  type HandlerContext,
  type HandlerMiddleware,
  type MessageEnvelope,
  type MessageSettledEvent,
  type SettlementFailedEvent,
} from '../src/index.js';
import { FakeTransport } from './support/fake-transport.js';
import { OrderPlacedEvent, PaymentTaken, type OrderPlaced } from './support/handlers.js';

const codec = new JsonCodec();
const envelopeOf = (
  type: string,
  payload: unknown,
  overrides: Partial<MessageEnvelope> = {},
): MessageEnvelope =>
  createEnvelope({ type, payload: codec.encode(payload), contentType: 'application/json', ...overrides });

/** What the current test's handler does; set per test. */
let behaviour: (payload: OrderPlaced, context: HandlerContext) => Promise<void> = () => Promise.resolve();
const calls: { payload: OrderPlaced; attempt: number }[] = [];

class Orders {
  @EventHandler(OrderPlacedEvent, {
    group: 'orders',
    retry: { maxAttempts: 3, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1000, jitter: 0 },
    timeoutMs: 200,
  })
  async onPlaced(payload: OrderPlaced, context: HandlerContext): Promise<void> {
    calls.push({ payload, attempt: context.deliveryAttempt });
    await behaviour(payload, context);
  }
}

class Careless {
  @EventHandler(OrderPlacedEvent, { group: 'careless', deadLetter: false, retry: { maxAttempts: 1 } })
  onPlaced(): void {
    throw new Error('nope');
  }
}

describe('router settlement', () => {
  let transport: FakeTransport;
  let bus: EventBus;
  let settled: MessageSettledEvent[];

  async function start(config: Partial<EventBusConfig> = {}): Promise<void> {
    transport = new FakeTransport();
    transport.redeliver = false;
    bus = createEventBus({ transport, handlers: [Orders, Careless], ...config });
    settled = [];
    bus.on('message.settled', (event) => {
      settled.push(event);
    });
    await bus.start();
  }

  beforeEach(async () => {
    calls.length = 0;
    behaviour = () => Promise.resolve();
    await start();
  });
  afterEach(() => bus.stop({ drainTimeoutMs: 100 }));

  const order = (total = 10): MessageEnvelope => envelopeOf(OrderPlacedEvent.name, { orderId: 'o-1', total });

  it('subscribes one subscription per destination and group, with the handler options', () => {
    expect(transport.subscribers.map((s) => s.spec)).to.deep.equal([
      {
        destination: OrderPlacedEvent.name,
        group: 'orders',
        concurrency: 1,
        ordered: false,
        handlerTimeoutMs: 200,
      },
      {
        destination: OrderPlacedEvent.name,
        group: 'careless',
        concurrency: 1,
        ordered: false,
        handlerTimeoutMs: 30_000,
      },
    ]);
    expect(transport.provisioned[0]).to.deep.equal({
      destinations: [
        {
          name: OrderPlacedEvent.name,
          groups: [
            { name: 'orders', ordered: false },
            { name: 'careless', ordered: false },
          ],
        },
      ],
    });
  });

  it('acks on success and passes the decoded, validated payload', async () => {
    expect(await transport.inject(order(), 1, undefined, 'orders')).to.deep.equal({ kind: 'ack' });
    expect(calls).to.deep.equal([{ payload: { orderId: 'o-1', total: 10 }, attempt: 1 }]);
    expect(settled[0]).to.deep.include({
      outcome: 'acked',
      attempt: 1,
      group: 'orders',
      handler: 'Orders.onPlaced',
    });
  });

  it('retries a failure with the policy backoff, then dead-letters on the last attempt', async () => {
    behaviour = () => Promise.reject(new Error('db down'));
    expect(await transport.inject(order(), 1, undefined, 'orders')).to.deep.equal({
      kind: 'retry',
      delayMs: 100,
    });
    expect(await transport.inject(order(), 2, undefined, 'orders')).to.deep.equal({
      kind: 'retry',
      delayMs: 200,
    });
    expect(await transport.inject(order(), 3, undefined, 'orders')).to.deep.equal({
      kind: 'dead-letter',
      reason: { code: 'HANDLER_FAILED', message: 'db down', attempts: 3 },
    });
    expect(settled.map((s) => s.outcome)).to.deep.equal(['retried', 'retried', 'dead-lettered']);
    expect(settled[0]?.reason).to.deep.equal({ code: 'HANDLER_FAILED', message: 'db down' });
    expect(settled[0]?.delayMs).to.equal(100);
  });

  it('RetryLaterError retries at the requested delay; UnrecoverableError dead-letters at once', async () => {
    behaviour = () => Promise.reject(new RetryLaterError(750));
    expect(await transport.inject(order(), 1, undefined, 'orders')).to.deep.equal({
      kind: 'retry',
      delayMs: 750,
    });
    behaviour = () => Promise.reject(new UnrecoverableError('poison order'));
    expect(await transport.inject(order(), 1, undefined, 'orders')).to.deep.equal({
      kind: 'dead-letter',
      reason: { code: 'UNRECOVERABLE', message: 'poison order', attempts: 1 },
    });
  });

  it('a timed-out handler is aborted and retried with HANDLER_TIMEOUT', async () => {
    let aborted: unknown;
    behaviour = (_payload, context) =>
      new Promise((resolve) => {
        context.signal.addEventListener('abort', () => {
          aborted = context.signal.reason;
          resolve();
        });
      });
    const settlement = await transport.inject(order(), 1, undefined, 'orders');
    expect(settlement).to.deep.equal({ kind: 'retry', delayMs: 100 });
    expect(settled[0]?.reason?.code).to.equal('HANDLER_TIMEOUT');
    expect((aborted as { code?: string }).code).to.equal('HANDLER_TIMEOUT');
  });

  it('dead-letters unknown types, undecodable payloads and schema-invalid payloads with a reason', async () => {
    const unknown = await transport.inject(envelopeOf('who.knows', {}), 1, undefined, 'orders');
    expect(unknown).to.deep.equal({
      kind: 'dead-letter',
      reason: { code: 'UNKNOWN_EVENT_TYPE', message: 'unknown event type "who.knows"', attempts: 1 },
    });
    const foreign = await transport.inject(envelopeOf('', {}), 1, undefined, 'orders');
    expect(foreign.kind === 'dead-letter' && foreign.reason.message).to.contain('no event type');
    const garbage = await transport.inject(
      createEnvelope({
        type: OrderPlacedEvent.name,
        payload: new TextEncoder().encode('{nope'),
        contentType: 'application/json',
      }),
      1,
      undefined,
      'orders',
    );
    expect(garbage.kind === 'dead-letter' && garbage.reason.code).to.equal('DECODE_FAILED');
    const xml = await transport.inject(
      createEnvelope({
        type: OrderPlacedEvent.name,
        payload: new Uint8Array([60]),
        contentType: 'application/xml',
      }),
      1,
      undefined,
      'orders',
    );
    expect(xml.kind === 'dead-letter' && xml.reason.message).to.equal(
      'no codec for content type "application/xml"',
    );
    const invalid = await transport.inject(
      envelopeOf(OrderPlacedEvent.name, { orderId: 7, total: -1 }),
      1,
      undefined,
      'orders',
    );
    expect(invalid.kind === 'dead-letter' && invalid.reason.code).to.equal('VALIDATION_FAILED');
    expect(invalid.kind === 'dead-letter' && invalid.reason.message).to.match(/orderId: .*total: /);
    expect(calls).to.have.length(0);
  });

  it('acks a known type the group has no handler for, as discarded', async () => {
    await bus.publish(PaymentTaken, { orderId: 'x' });
    const settlement = await transport.inject(
      envelopeOf(PaymentTaken.name, { orderId: 'x' }),
      1,
      undefined,
      'orders',
    );
    expect(settlement).to.deep.equal({ kind: 'ack' });
    expect(settled.at(-1)).to.deep.include({
      outcome: 'discarded',
      reason: { code: 'NO_HANDLER', message: 'group "orders" has no handler for "test.payment-taken.v1"' },
    });
  });

  it('with dead-lettering disabled, terminal failures are acked and reported as discarded', async () => {
    expect(await transport.inject(order(), 1, undefined, 'careless')).to.deep.equal({ kind: 'ack' });
    expect(settled[0]).to.deep.include({
      outcome: 'discarded',
      reason: { code: 'HANDLER_FAILED', message: 'nope' },
    });
  });

  it('a failing settlement call is reported, never crashes the consumer, and the next message still flows', async () => {
    const failures: SettlementFailedEvent[] = [];
    bus.on('settlement.failed', (event) => {
      failures.push(event);
    });
    transport.failSettlement = true;
    let error: unknown;
    await transport.inject(order(), 1, undefined, 'orders').catch((e: unknown) => (error = e));
    expect((error as Error).message).to.equal('onDelivery resolved without settling');
    expect(failures).to.have.length(1);
    expect(failures[0]).to.deep.include({ outcome: 'acked', attempt: 1 });
    transport.failSettlement = false;
    expect(await transport.inject(order(), 1, undefined, 'orders')).to.deep.equal({ kind: 'ack' });
  });

  it('runs bus middleware around handler middleware, first added outermost, inside the handler context', async () => {
    await bus.stop();
    const trace: string[] = [];
    const mw =
      (name: string): HandlerMiddleware =>
      async (context, next) => {
        trace.push(`${name}>${context.handler}`);
        await next();
        trace.push(`<${name}`);
      };
    class WithMiddleware {
      @EventHandler(PaymentTaken, { group: 'mw', middleware: [mw('h1'), mw('h2')] })
      on(): void {
        trace.push('handler');
      }
    }
    await start({ handlers: [WithMiddleware], middleware: [mw('b1'), mw('b2')] });
    await transport.inject(envelopeOf(PaymentTaken.name, { orderId: 'x' }));
    expect(trace).to.deep.equal([
      'b1>WithMiddleware.on',
      'b2>WithMiddleware.on',
      'h1>WithMiddleware.on',
      'h2>WithMiddleware.on',
      'handler',
      '<h2',
      '<h1',
      '<b2',
      '<b1',
    ]);
  });

  it('a resolver failure fails the attempt with HANDLER_NOT_RESOLVED (retried)', async () => {
    await bus.stop();
    await start({ resolver: { resolve: () => Promise.reject(new Error('container exploded')) } });
    const settlement = await transport.inject(order(), 1, undefined, 'orders');
    expect(settlement.kind).to.equal('retry');
    expect(settled[0]?.reason?.code).to.equal('HANDLER_NOT_RESOLVED');
    expect(settled[0]?.reason?.message).to.contain('container exploded');
  });

  it('a listener that throws never breaks delivery', async () => {
    bus.on('message.received', () => {
      throw new Error('listener bug');
    });
    bus.on('message.settled', () => Promise.reject(new Error('async listener bug')));
    expect(await transport.inject(order(), 1, undefined, 'orders')).to.deep.equal({ kind: 'ack' });
  });
});
