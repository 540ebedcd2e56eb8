import 'reflect-metadata';
import { expect } from 'chai';
import { Container, injectable } from 'inversify';
import {
  createEventBus,
  defineEvent,
  EventBus,
  EventHandler,
  isOmnibusError,
  type HandlerContext,
} from '@omnibus/core';
import { MessageSpy } from '@omnibus/core/testing';
import { InversifyHandlerResolver } from '../src/index.js';

interface Order {
  readonly orderId: string;
}
const OrderPlaced = defineEvent<Order>('di-inversify.order-placed.v1');
const PaymentTaken = defineEvent<Order>('di-inversify.payment-taken.v1');

@injectable()
class PaymentGateway {
  readonly charged: string[] = [];
  charge(orderId: string): void {
    this.charged.push(orderId);
  }
}

@injectable()
class Billing {
  constructor(
    private readonly bus: EventBus,
    private readonly gateway: PaymentGateway,
  ) {}

  @EventHandler(OrderPlaced, { group: 'billing' })
  async onPlaced(order: Order, _context: HandlerContext): Promise<void> {
    this.gateway.charge(order.orderId);
    await this.bus.publish(PaymentTaken, { orderId: order.orderId });
  }
}

/** Consumes the follow-up event: a publish to a destination without a group is refused (NO_SUBSCRIBERS). */
@injectable()
class Receipts {
  @EventHandler(PaymentTaken, { group: 'receipts' })
  onPaid(): Promise<void> {
    return Promise.resolve();
  }
}

describe('InversifyHandlerResolver', () => {
  it('constructs handlers with real constructor injection, including the EventBus', async () => {
    const container = new Container();
    container.bind(PaymentGateway).toSelf().inSingletonScope();
    const bus = createEventBus({
      handlers: [Billing, Receipts],
      resolver: new InversifyHandlerResolver(container),
    });
    container.bind(EventBus).toDynamicValue(() => bus);
    const spy = new MessageSpy(bus);
    await bus.start();
    try {
      const placed = await bus.publish(OrderPlaced, { orderId: 'o-1' });
      const payment = await spy.waitFor({ type: PaymentTaken, outcome: 'published' });
      await spy.waitFor({ id: placed.id, outcome: 'acked' });
      expect(container.get(PaymentGateway).charged).to.deep.equal(['o-1']);
      expect(payment.envelope.causationId).to.equal(placed.id);
      const billing = await new InversifyHandlerResolver(container).resolve(Billing);
      expect(billing).to.be.instanceOf(Billing);
    } finally {
      spy.dispose();
      await bus.stop();
    }
  });

  it('without autobind, an unbound handler fails to resolve and the attempt is retried as HANDLER_NOT_RESOLVED', async () => {
    const container = new Container();
    const resolver = new InversifyHandlerResolver(container, { autobind: false });
    let error: unknown;
    await Promise.resolve(resolver.resolve(Billing)).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(Error);
    const bus = createEventBus({
      handlers: [Billing],
      resolver,
      defaults: { retry: { maxAttempts: 2, initialDelayMs: 1, jitter: 0 } },
    });
    const spy = new MessageSpy(bus);
    await bus.start();
    try {
      const placed = await bus.publish(OrderPlaced, { orderId: 'o-2' });
      const retried = await spy.waitFor({ id: placed.id, outcome: 'retried' });
      expect(retried.reason?.code).to.equal('HANDLER_NOT_RESOLVED');
      const dead = await spy.waitFor({ id: placed.id, outcome: 'dead-lettered' });
      expect(dead.attempt).to.equal(2);
    } finally {
      spy.dispose();
      await bus.stop();
    }
    expect(isOmnibusError(error)).to.equal(false);
  });
});
