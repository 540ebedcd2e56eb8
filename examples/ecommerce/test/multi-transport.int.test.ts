// One bus on two real brokers (docs/guides/multiple-transports.md): orders travel on Kafka, charges
// on RabbitMQ. Observer buses with a single transport each prove every message went through its
// own broker; RabbitMQ's topology proves the Kafka-routed event never touched it.
import 'reflect-metadata';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import {
  createEventBus,
  defineEvent,
  EventBus,
  EventHandler,
  RoutedTransport,
  type EventDefinition,
  type Transport,
} from '@omnibus/core';
import { MessageSpy, waitFor } from '@omnibus/core/testing';
import { LOCAL_BROKER_OPTIONS } from '../src/local-brokers.js';

type Order = { readonly orderId: string };

const kafka = { name: 'kafka', options: { ...LOCAL_BROKER_OPTIONS['kafka'] } };
const rabbitmq = { name: 'rabbitmq', options: { ...LOCAL_BROKER_OPTIONS['rabbitmq'] } };

describe('several transports in one bus on RabbitMQ and Kafka', function () {
  this.timeout(120_000);
  const run = randomBytes(3).toString('hex');
  const Placed = defineEvent<Order>(`multi${run}.order-placed.v1`);
  const Charged = defineEvent<Order>(`multi${run}.order-charged.v1`);
  const buses: EventBus[] = [];

  after(async () => {
    await Promise.all(buses.map((bus) => bus.stop({ drainTimeoutMs: 2000 })));
  });

  it('publishes and consumes each event on its own broker; a handler on Kafka publishes to RabbitMQ', async () => {
    // Observers first, one broker each: Placed on Kafka, Charged on RabbitMQ.
    const kafkaObserver = createEventBus({ transport: kafka, handlers: [observerOf(Placed)] });
    const rabbitObserver = createEventBus({ transport: rabbitmq, handlers: [observerOf(Charged)] });
    buses.push(kafkaObserver, rabbitObserver);
    const kafkaSpy = new MessageSpy(kafkaObserver);
    const rabbitSpy = new MessageSpy(rabbitObserver);
    await Promise.all([kafkaObserver.start(), rabbitObserver.start()]);

    const bus: EventBus = createEventBus({
      transports: { stream: kafka, work: rabbitmq },
      routes: { [Placed.name]: 'stream', [Charged.name]: 'work' },
      handlers: [billingOf(Placed, Charged, () => bus)],
    });
    buses.push(bus);
    const spy = new MessageSpy(bus);
    await bus.start();
    const routed = bus.transport as RoutedTransport;
    expect(routed).to.be.instanceOf(RoutedTransport);
    expect(routed.route(Placed.name).transport.name).to.equal('kafka');
    expect(routed.route(Charged.name).transport.name).to.equal('rabbitmq');

    const orders = ['o-1', 'o-2', 'o-3'];
    for (const orderId of orders) await bus.publish(Placed, { orderId });
    const acked = (s: MessageSpy, event: EventDefinition<Order>, group: string): string[] =>
      s.filter({ type: event, outcome: 'acked', group }).map((r) => r.envelope.id);
    await waitFor(() => acked(spy, Charged, 'shipping').length === orders.length, { timeoutMs: 60_000 });
    await waitFor(() => acked(kafkaSpy, Placed, 'observer').length === orders.length, { timeoutMs: 60_000 });
    await waitFor(() => acked(rabbitSpy, Charged, 'observer').length === orders.length, {
      timeoutMs: 60_000,
    });
    expect(acked(spy, Placed, 'billing')).to.have.length(orders.length);
    // The ids the observers saw are the ids the routed bus published.
    const publishedCharges = spy.filter({ type: Charged, outcome: 'published' }).map((r) => r.envelope.id);
    expect(
      rabbitSpy
        .filter({ type: Charged, outcome: 'acked' })
        .map((r) => r.envelope.id)
        .sort(),
    ).to.deep.equal(publishedCharges.sort());
    // Placed never touched RabbitMQ: its exchange does not exist there.
    const work = routed.transports.get('work') as Transport;
    const inspection = await work.inspectTopology?.({ destinations: [{ name: Placed.name, groups: [] }] });
    expect(inspection?.items).to.have.length.greaterThan(0);
    expect(inspection?.items.every((item) => item.state === 'missing')).to.equal(true);
  });
});

/** A handler class observing `event` in group `observer`. */
function observerOf(event: EventDefinition<Order>): new () => object {
  class Observer {
    @EventHandler(event, { group: 'observer' })
    seen(): void {}
  }
  return Observer;
}

/** Charges each placed order (publishing `charged` from inside the handler) and ships each charge. */
function billingOf(
  placed: EventDefinition<Order>,
  charged: EventDefinition<Order>,
  bus: () => EventBus,
): new () => object {
  class Billing {
    @EventHandler(placed, { group: 'billing' })
    async charge(order: Order): Promise<void> {
      await bus().publish(charged, { orderId: order.orderId });
    }

    @EventHandler(charged, { group: 'shipping' })
    ship(): void {}
  }
  return Billing;
}
