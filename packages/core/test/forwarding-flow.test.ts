// Forwarding flows: route A, filter, map, publish as B, at least once, correlation kept.
import { expect } from 'chai';
import {
  createEventBus,
  defineEvent,
  defineFlow,
  EventHandler,
  InMemoryTransport,
  type EventBus,
  type HandlerContext,
} from '../src/index.js';
import { MessageSpy } from '../src/testing/index.js';

let sequence = 0;
const unique = (name: string): string => `flow.${name}.${String(process.pid)}.${String(++sequence)}`;

describe('forwarding flows', () => {
  const buses: EventBus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.stop({ drainTimeoutMs: 500 })));
  });

  it('forwards matching source messages as the target event, mapped, with correlation, causation and partition key kept; the source is acked only after the forward was published', async () => {
    const Placed = defineEvent<{ orderId: string; total: number }>(unique('placed'));
    const Large = defineEvent<{ id: string; cents: number }>(unique('large'));
    const received: { payload: { id: string; cents: number }; context: HandlerContext }[] = [];
    class LargeOrders {
      @EventHandler(Large, { group: 'large' })
      on(payload: { id: string; cents: number }, context: HandlerContext): void {
        received.push({ payload, context });
      }
    }
    const flow = defineFlow({
      name: 'large-orders',
      from: Placed,
      to: Large,
      group: 'large-router',
      filter: { where: (order) => order.total >= 100 },
      map: (order) => ({ id: order.orderId, cents: order.total * 100 }),
    });
    const bus = createEventBus({ transport: { name: 'in-memory' }, handlers: [LargeOrders], flows: [flow] });
    buses.push(bus);
    const spy = new MessageSpy(bus);
    const order: string[] = [];
    bus.on('message.published', (e) => {
      if (e.envelope.type === Large.name) order.push(`published ${e.envelope.causationId ?? ''}`);
    });
    bus.on('message.settled', (e) => {
      if (e.group === 'large-router') order.push(`${e.outcome} ${e.envelope.id}`);
    });
    await bus.start();
    const big = await bus.publish(
      Placed,
      { orderId: 'A', total: 150 },
      { correlationId: 'conv-1', partitionKey: 'A' },
    );
    const small = await bus.publish(Placed, { orderId: 'B', total: 5 });
    await spy.waitFor({ id: small.id, group: 'large-router' });
    await spy.waitFor({ type: Large, outcome: 'acked' });
    expect(received.map((r) => r.payload)).to.deep.equal([{ id: 'A', cents: 15_000 }]);
    const forwarded = received[0]?.context.envelope;
    expect(forwarded?.causationId).to.equal(big.id);
    expect(forwarded?.correlationId).to.equal('conv-1');
    expect(forwarded?.partitionKey).to.equal('A');
    expect(order.indexOf(`published ${big.id}`)).to.be.below(order.indexOf(`acked ${big.id}`));
    expect(order).to.include(`filtered ${small.id}`);
    spy.dispose();
  });

  it('a map that throws fails the source attempt: retried per the flow options, then dead-lettered; nothing is forwarded', async () => {
    const Source = defineEvent<{ n: number }>(unique('source'));
    const Target = defineEvent<{ n: number }>(unique('target'));
    let forwarded = 0;
    class Targets {
      @EventHandler(Target, { group: 'targets' })
      on(): void {
        forwarded += 1;
      }
    }
    const flow = defineFlow({
      name: 'broken',
      from: Source,
      to: Target,
      group: 'broken-router',
      options: { retry: { maxAttempts: 2, initialDelayMs: 5, jitter: 0 } },
      map: (): { n: number } => {
        throw new Error('cannot map');
      },
    });
    const transport = new InMemoryTransport();
    const bus = createEventBus({ transport, handlers: [Targets], flows: [flow] });
    buses.push(bus);
    await bus.start();
    await bus.publish(Source, { n: 1 });
    const [dead] = await transport.broker.waitForDeadLetters(Source.name, 'broken-router', 1, 2000);
    expect(dead?.info).to.deep.include({ code: 'HANDLER_FAILED', message: 'cannot map', attempts: 2 });
    expect(forwarded).to.equal(0);
  });
});
