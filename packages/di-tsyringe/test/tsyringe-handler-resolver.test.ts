import 'reflect-metadata';
import { expect } from 'chai';
import { container as rootContainer, injectable, singleton } from 'tsyringe';
import { createEventBus, defineEvent, EventBus, EventHandler, type HandlerContext } from '@omnibus/core';
import { MessageSpy } from '@omnibus/core/testing';
import { TsyringeHandlerResolver } from '../src/index.js';

interface Order {
  readonly orderId: string;
}
const OrderPlaced = defineEvent<Order>('di-tsyringe.order-placed.v1');
const ShipmentRequested = defineEvent<Order>('di-tsyringe.shipment-requested.v1');

@singleton()
class Warehouse {
  readonly reserved: string[] = [];
  reserve(orderId: string): void {
    this.reserved.push(orderId);
  }
}

@injectable()
class Shipping {
  constructor(
    private readonly bus: EventBus,
    private readonly warehouse: Warehouse,
  ) {}

  @EventHandler(OrderPlaced, { group: 'shipping' })
  async onPlaced(order: Order, _context: HandlerContext): Promise<void> {
    this.warehouse.reserve(order.orderId);
    await this.bus.publish(ShipmentRequested, { orderId: order.orderId });
  }
}

/** Consumes the follow-up event: a publish to a destination without a group is refused (NO_SUBSCRIBERS). */
@injectable()
class Dispatch {
  @EventHandler(ShipmentRequested, { group: 'dispatch' })
  onRequested(): Promise<void> {
    return Promise.resolve();
  }
}

describe('TsyringeHandlerResolver', () => {
  it('constructs handlers with real constructor injection, including the EventBus', async () => {
    const container = rootContainer.createChildContainer();
    const bus = createEventBus({
      handlers: [Shipping, Dispatch],
      resolver: new TsyringeHandlerResolver(container),
    });
    container.register(EventBus, { useFactory: () => bus });
    const spy = new MessageSpy(bus);
    await bus.start();
    try {
      const placed = await bus.publish(OrderPlaced, { orderId: 'o-1' });
      const shipment = await spy.waitFor({ type: ShipmentRequested, outcome: 'published' });
      await spy.waitFor({ id: placed.id, outcome: 'acked' });
      expect(container.resolve(Warehouse).reserved).to.deep.equal(['o-1']);
      expect(shipment.envelope.correlationId).to.equal(placed.id);
      expect(shipment.envelope.causationId).to.equal(placed.id);
    } finally {
      spy.dispose();
      await bus.stop();
    }
  });

  it('a missing registration fails the attempt with HANDLER_NOT_RESOLVED', async () => {
    const container = rootContainer.createChildContainer();
    const bus = createEventBus({
      handlers: [Shipping],
      resolver: new TsyringeHandlerResolver(container),
      defaults: { retry: { maxAttempts: 1 } },
    });
    const spy = new MessageSpy(bus);
    await bus.start();
    try {
      const placed = await bus.publish(OrderPlaced, { orderId: 'o-2' });
      const dead = await spy.waitFor({ id: placed.id, outcome: 'dead-lettered' });
      expect(dead.reason?.code).to.equal('HANDLER_NOT_RESOLVED');
      expect(dead.reason?.message).to.contain('Shipping').and.to.contain('EventBus');
    } finally {
      spy.dispose();
      await bus.stop();
    }
  });
});
