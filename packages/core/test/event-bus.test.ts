import { expect } from 'chai';
import {
  createEventBus,
  defineEvent,
  EventBus,
  EventHandler,
  isOmnibusError,
  parseTraceparent,
  type HandlerContext,
  type MessageEnvelope,
  type TransportStatusEvent,
} from '../src/index.js';
import { MessageSpy } from '../src/testing/index.js';
import { FakeTransport } from './support/fake-transport.js';
import { OrderPlacedEvent, PaymentTaken, type OrderPlaced } from './support/handlers.js';
import { waitFor } from '../src/testing/wait-for.js';

async function rejection(promise: Promise<unknown>): Promise<{ code: string; message: string }> {
  try {
    await promise;
  } catch (error) {
    if (isOmnibusError(error)) return { code: error.code, message: error.message };
    throw error;
  }
  throw new Error('expected a rejection');
}

/** Re-publishes each OrderPlaced as PaymentTaken, recording the context it saw. */
let seen: HandlerContext | undefined;
class Billing {
  constructor() {}
  static bus: EventBus;
  @EventHandler(OrderPlacedEvent, { group: 'billing' })
  async onPlaced(order: OrderPlaced, context: HandlerContext): Promise<void> {
    seen = context;
    await Billing.bus.publish(PaymentTaken, { orderId: order.orderId });
  }
}

describe('EventBus', () => {
  let transport: FakeTransport;
  let bus: EventBus;

  beforeEach(async () => {
    transport = new FakeTransport();
    bus = createEventBus({ transport, handlers: [Billing] });
    Billing.bus = bus;
    seen = undefined;
    await bus.start();
  });
  afterEach(() => bus.stop({ drainTimeoutMs: 200 }));

  it('publishes an envelope with id, type, JSON payload, traceparent and options', async () => {
    const occurredAt = new Date('2024-05-06T07:08:09Z');
    const envelope = await bus.publish(
      PaymentTaken,
      { orderId: 'o-1' },
      { id: 'fixed-id', partitionKey: 'o-1', headers: { tenant: 'acme' }, occurredAt, delayMs: 50 },
    );
    expect(envelope).to.deep.include({
      id: 'fixed-id',
      type: PaymentTaken.name,
      contentType: 'application/json',
      partitionKey: 'o-1',
      occurredAt,
    });
    expect(new TextDecoder().decode(envelope.payload)).to.equal('{"orderId":"o-1"}');
    expect(envelope.headers['tenant']).to.equal('acme');
    expect(parseTraceparent(envelope.headers['traceparent'])).to.not.equal(undefined);
    expect(envelope.correlationId).to.equal(undefined);
    const last = transport.published.at(-1);
    expect(last?.destination).to.equal(PaymentTaken.name);
    expect(last?.messages[0]).to.deep.equal({ envelope, delayMs: 50 });
  });

  it('stamps correlation, causation and trace context when publishing inside a handler', async () => {
    const spy = new MessageSpy(bus);
    const incomingTrace = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const first = await bus.publish(
      OrderPlacedEvent,
      { orderId: 'o-2', total: 1 },
      { headers: { traceparent: incomingTrace } },
    );
    const child = await spy.waitFor({ type: PaymentTaken, outcome: 'published' });
    expect(seen?.envelope.id).to.equal(first.id);
    expect(seen?.traceparent).to.equal(incomingTrace);
    expect(child.envelope.correlationId).to.equal(first.id);
    expect(child.envelope.causationId).to.equal(first.id);
    const trace = parseTraceparent(child.envelope.headers['traceparent']);
    expect(trace?.traceId).to.equal('0af7651916cd43dd8448eb211c80319c');
    expect(trace?.parentId).to.not.equal('b7ad6b7169203331');
    spy.dispose();
  });

  it('keeps an incoming correlationId through a chain, and explicit options win', async () => {
    const spy = new MessageSpy(bus);
    const first = await bus.publish(
      OrderPlacedEvent,
      { orderId: 'o-3', total: 1 },
      { correlationId: 'conversation-1' },
    );
    const child = await spy.waitFor({ type: PaymentTaken, outcome: 'published' });
    expect(child.envelope.correlationId).to.equal('conversation-1');
    expect(child.envelope.causationId).to.equal(first.id);
    const explicit = await bus.publish(
      PaymentTaken,
      { orderId: 'x' },
      { correlationId: 'c', causationId: 'k' },
    );
    expect(explicit).to.deep.include({ correlationId: 'c', causationId: 'k' });
    spy.dispose();
  });

  it('rejects schema-invalid payloads with VALIDATION_FAILED before reaching the transport', async () => {
    const error = await rejection(bus.publish(OrderPlacedEvent, { orderId: 'x', total: -5 }));
    expect(error.code).to.equal('VALIDATION_FAILED');
    expect(error.message).to.contain('total');
    expect(transport.published).to.have.length(0);
  });

  it('rejects oversize payloads with PAYLOAD_TOO_LARGE before calling the transport', async () => {
    const error = await rejection(bus.publish(PaymentTaken, { orderId: 'x'.repeat(2000) }));
    expect(error.code).to.equal('PAYLOAD_TOO_LARGE');
    expect(error.message).to.match(/is 2014 bytes; transport "fake" accepts at most 1024 bytes/);
    expect(transport.published).to.have.length(0);
  });

  it('rejects delays the transport cannot honour with DELAY_OUT_OF_RANGE', async () => {
    expect(
      (await rejection(bus.publish(PaymentTaken, { orderId: 'x' }, { delayMs: 120_000 }))).code,
    ).to.equal('DELAY_OUT_OF_RANGE');
    expect((await rejection(bus.publish(PaymentTaken, { orderId: 'x' }, { delayMs: -1 }))).code).to.equal(
      'DELAY_OUT_OF_RANGE',
    );
    transport.capabilities = { ...transport.capabilities, delayedDelivery: false };
    expect(
      (await rejection(bus.publish(PaymentTaken, { orderId: 'x' }, { delayMs: 10 }))).message,
    ).to.contain('does not support delayed delivery');
  });

  it('rejects reserved or non-string headers', async () => {
    expect(
      (await rejection(bus.publish(PaymentTaken, { orderId: 'x' }, { headers: { 'ce-id': 'spoof' } })))
        .message,
    ).to.contain('reserved');
    expect(
      (
        await rejection(
          bus.publish(PaymentTaken, { orderId: 'x' }, { headers: { n: 1 as unknown as string } }),
        )
      ).code,
    ).to.equal('VALIDATION_FAILED');
  });

  it('maps transport failures to typed errors', async () => {
    transport.failPublish = new Error('socket closed');
    const error = await rejection(bus.publish(PaymentTaken, { orderId: 'x' }));
    expect(error).to.deep.equal({
      code: 'PUBLISH_FAILED',
      message: `publishing ${PaymentTaken.name} to "${PaymentTaken.name}" failed: socket closed`,
    });
  });

  it('publishes a batch in one transport call, validating everything first', async () => {
    const envelopes = await bus.publishBatch(
      PaymentTaken,
      [{ orderId: 'a' }, { orderId: 'b' }],
      (payload, index) => ({ id: `batch-${String(index)}`, partitionKey: payload.orderId }),
    );
    expect(envelopes.map((e) => [e.id, e.partitionKey])).to.deep.equal([
      ['batch-0', 'a'],
      ['batch-1', 'b'],
    ]);
    expect(transport.published.at(-1)?.messages).to.have.length(2);
    const before = transport.published.length;
    const error = await rejection(
      bus.publishBatch(OrderPlacedEvent, [
        { orderId: 'ok', total: 1 },
        { orderId: 'bad', total: -1 },
      ]),
    );
    expect(error.code).to.equal('VALIDATION_FAILED');
    expect(transport.published.length).to.equal(before);
    expect(await bus.publishBatch(PaymentTaken, [])).to.deep.equal([]);
  });

  it('provisions an event unknown at start before its first publish, once', async () => {
    const Late = defineEvent<{ n: number }>('test.late.v1', { destination: 'test.late-destination' });
    await Promise.all([bus.publish(Late, { n: 1 }), bus.publish(Late, { n: 2 })]);
    const provisions = transport.provisioned.filter((t) =>
      t.destinations.some((d) => d.name === 'test.late-destination'),
    );
    expect(provisions).to.deep.equal([{ destinations: [{ name: 'test.late-destination', groups: [] }] }]);
    const Conflicting = defineEvent('test.late.v1', { destination: 'other' });
    expect((await rejection(bus.publish(Conflicting, {}))).message).to.contain('two different definitions');
  });

  it('provisions every known event at start, including publish-only ones', async () => {
    const t = new FakeTransport();
    const other = createEventBus({
      transport: t,
      events: [OrderPlacedEvent, PaymentTaken],
      handlers: [Billing],
    });
    await other.start();
    expect(t.provisioned[0]?.destinations.map((d) => d.name)).to.deep.equal([
      OrderPlacedEvent.name,
      PaymentTaken.name,
    ]);
    await other.stop();
  });

  it('forwards transport status changes as transport.status events', () => {
    const events: TransportStatusEvent[] = [];
    const dispose = bus.on('transport.status', (e) => {
      events.push(e);
    });
    const error = new Error('connection lost');
    transport.setStatus('reconnecting', error);
    dispose();
    transport.setStatus('ready');
    expect(events).to.deep.equal([{ transport: 'fake', status: 'reconnecting', error }]);
  });
});

describe('EventBus lifecycle', () => {
  it('rejects publish before start (BUS_NOT_STARTED) and after stop (BUS_CLOSED)', async () => {
    const transport = new FakeTransport();
    const bus = new EventBus({ transport });
    expect(bus.status).to.equal('idle');
    expect((await rejection(bus.publish(PaymentTaken, { orderId: 'x' }))).code).to.equal('BUS_NOT_STARTED');
    await Promise.all([bus.start(), bus.start()]);
    expect(transport.connectCalls).to.equal(1);
    expect(bus.status).to.equal('started');
    await Promise.all([bus.stop(), bus.stop()]);
    await bus.stop();
    expect(bus.status).to.equal('stopped');
    expect(transport.closeCalls).to.equal(1);
    expect((await rejection(bus.publish(PaymentTaken, { orderId: 'x' }))).code).to.equal('BUS_CLOSED');
    expect((await rejection(bus.start())).code).to.equal('BUS_CLOSED');
  });

  it('stopping an idle bus just marks it stopped', async () => {
    const bus = createEventBus({ transport: new FakeTransport() });
    await bus.stop();
    expect(bus.status).to.equal('stopped');
  });

  it('stop is bounded even when a handler and the transport hang, and aborts the handler signal', async () => {
    let signal: AbortSignal | undefined;
    class Hangs {
      @EventHandler(PaymentTaken, { group: 'hang' })
      async on(_payload: unknown, context: HandlerContext): Promise<void> {
        signal = context.signal;
        await new Promise(() => undefined);
      }
    }
    const transport = new FakeTransport();
    transport.close = () => new Promise(() => undefined);
    const spy = new MessageSpy(createEventBus());
    const bus = createEventBus({ transport, handlers: [Hangs] });
    await bus.start();
    await bus.publish(PaymentTaken, { orderId: 'x' });
    await waitUntil(() => signal !== undefined);
    // Subscriptions of the fake close at once; the hanging transport.close is bounded by drain + 2 s.
    const started = Date.now();
    await bus.stop({ drainTimeoutMs: 50 });
    expect(Date.now() - started).to.be.below(4000);
    expect(signal?.aborted).to.equal(true);
    expect(bus.status).to.equal('stopped');
    spy.dispose();
  });

  it('stopOnSignals stops the bus on SIGTERM and its disposer removes the listener', async () => {
    const bus = createEventBus({ transport: new FakeTransport() });
    await bus.start();
    const before = process.listenerCount('SIGTERM');
    const dispose = bus.stopOnSignals({ exit: false });
    expect(process.listenerCount('SIGTERM')).to.equal(before + 1);
    process.emit('SIGTERM', 'SIGTERM');
    expect(process.listenerCount('SIGTERM')).to.equal(before);
    await waitUntil(() => bus.status === 'stopped');
    const other = createEventBus({ transport: new FakeTransport() });
    const disposeOther = other.stopOnSignals({ exit: false, signals: ['SIGUSR2'] });
    disposeOther();
    disposeOther();
    expect(process.listenerCount('SIGUSR2')).to.equal(0);
    dispose();
  });
});

async function waitUntil(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  await waitFor(condition, { timeoutMs, intervalMs: 5 });
}

export type { MessageEnvelope };
