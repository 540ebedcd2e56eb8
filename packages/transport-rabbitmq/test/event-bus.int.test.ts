// The application API end to end on RabbitMQ: the bus selects the transport by name through the
// provider, provisions the topology, retries through delay tiers and dead-letters.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { EventHandler, UnrecoverableError, createEventBus, defineEvent } from '@omnibus/core';
import type { EventBus, HandlerContext } from '@omnibus/core';
import { MessageSpy } from '@omnibus/core/testing';
import { rabbitmqTransport } from '../src/index.js';
import { NativeClient, RABBITMQ_URL, ensureRabbitMq, uniquePrefix } from './rabbitmq-test-support.js';

const TIERS = [50, 100, 200, 500, 1_000];

describe('EventBus on RabbitMQ', function () {
  this.timeout(60_000);
  const prefix = uniquePrefix('bus');
  const native = new NativeClient(prefix);
  const buses: EventBus[] = [];
  const transport = {
    name: 'rabbitmq',
    options: { urls: [RABBITMQ_URL], prefix, delayTiersMs: TIERS, queueType: 'quorum' },
  };

  before(async () => {
    await ensureRabbitMq();
  });

  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.stop({ drainTimeoutMs: 1_000 })));
  });

  after(async () => {
    await native.cleanup(TIERS);
  });

  it('retries a failing handler through the delay tiers until it succeeds, then dead-letters an unrecoverable one', async () => {
    interface Order {
      readonly id: string;
      readonly fail: 'twice' | 'always';
    }
    const OrderPlaced = defineEvent<Order>(`it.order-placed.${randomUUID().slice(0, 8)}.v1`);
    native.track(OrderPlaced.name, 'billing');
    const attempts = new Map<string, number[]>();
    class Billing {
      @EventHandler(OrderPlaced, {
        group: 'billing',
        concurrency: 2,
        retry: { maxAttempts: 4, initialDelayMs: 50, multiplier: 2, maxDelayMs: 1_000, jitter: 0 },
      })
      onOrderPlaced(order: Order, context: HandlerContext): void {
        attempts.set(order.id, [...(attempts.get(order.id) ?? []), context.deliveryAttempt]);
        if (order.fail === 'always') throw new UnrecoverableError('cannot bill this order');
        if (context.deliveryAttempt < 3) throw new Error('payment provider timeout');
      }
    }
    const bus = createEventBus({
      transport,
      providers: [rabbitmqTransport],
      handlers: [Billing],
      events: [OrderPlaced],
    });
    buses.push(bus);
    const spy = new MessageSpy(bus);
    await bus.start();
    const flaky = await bus.publish(OrderPlaced, { id: 'o-1', fail: 'twice' });
    const poison = await bus.publish(OrderPlaced, { id: 'o-2', fail: 'always' });
    await spy.waitFor({ id: flaky.id, outcome: 'acked' }, { timeoutMs: 10_000 });
    await spy.waitFor({ id: poison.id, outcome: 'dead-lettered' }, { timeoutMs: 10_000 });
    expect(attempts.get('o-1')).to.deep.equal([1, 2, 3]);
    expect(attempts.get('o-2')).to.deep.equal([1]);
    const [dead] = await native.readDeadLetters(OrderPlaced.name, 'billing', 1, 5_000);
    expect(dead?.envelope.id).to.equal(poison.id);
    expect(dead?.info.message).to.include('cannot bill this order');
    spy.dispose();
  });
});
