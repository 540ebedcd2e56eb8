// The fulfilment saga on every transport, with two competing consumer processes' worth of buses
// (each with its own SagaHost, sharing the PostgreSQL store): every order ends in exactly one
// terminal state, paid ones completed and shipped once, unpaid ones compensated once.
import 'reflect-metadata';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { createEventBus, InMemoryBroker, type EventBus } from '@omnibus/core';
import { waitFor } from '@omnibus/core/testing';
import { migrate, PostgresSagaStore } from '@omnibus/outbox-postgres';
import { SagaHost } from '@omnibus/saga';
import { fulfilmentEvents, fulfilmentSaga, fulfilmentServices } from '../src/fulfilment.js';
import { dropSchema, testPool, transportFor } from './support.js';

const transports = (process.env['OMNIBUS_SAGA_TRANSPORTS'] ?? 'in-memory,rabbitmq,kafka,sqs,azure,nats')
  .split(',')
  .filter(Boolean);
const ORDERS = 24;

for (const name of transports) {
  describe(`fulfilment saga on ${name}: two competing consumers, PostgreSQL store`, function () {
    this.timeout(180_000);
    let pool: pg.Pool;
    const run = `${name.replace('-', '')}${randomBytes(3).toString('hex')}`;
    const schema = `t_saga_${run}`;
    const buses: EventBus[] = [];

    before(async () => {
      pool = testPool();
      await migrate(pool, { schema });
    });
    after(async () => {
      await Promise.all(buses.map((b) => b.stop({ drainTimeoutMs: 2000 })));
      await dropSchema(pool, schema);
      await pool.end();
    });

    it('every order ends once: paid ones ship and complete, unpaid ones are cancelled and their stock released', async () => {
      const e = fulfilmentEvents(`sagae2e.${run}`);
      const saga = fulfilmentSaga(`sagae2e.${run}.fulfilment`, e, 3000);
      // One entry per (kind, order, message id): a broker redelivering a message is not a second
      // effect, a saga step applied twice (a new message id) is.
      const effects = new Map<string, { kind: string; orderId: string }>();
      const broker = new InMemoryBroker();
      const conflicts: number[] = [];
      const hosts: SagaHost[] = [];
      for (let i = 0; i < 2; i++) {
        const host = new SagaHost({ sagas: [saga], store: new PostgresSagaStore({ pool, schema }) });
        host.on('saga.conflict', () => conflicts.push(i));
        const transport = transportFor(name, broker);
        const bus: EventBus = createEventBus({
          transport,
          events: [...host.events, e.PaymentSucceeded, e.ShipmentDispatched],
          handlers: [
            ...host.handlers,
            ...fulfilmentServices(
              e,
              {
                publish: (event, payload) => bus.publish(event, payload),
                record: (kind, orderId, messageId) =>
                  void effects.set(`${kind}/${messageId}`, { kind, orderId }),
              },
              `sagae2e-${run}`,
            ),
          ],
        });
        host.attach(bus);
        hosts.push(host);
        buses.push(bus);
        await bus.start();
      }
      const orders = Array.from({ length: ORDERS }, (_, i) => `order-${String(i)}`);
      // Published from both buses, interleaved.
      await Promise.all(
        orders.map((orderId, i) => buses[i % 2]!.publish(e.OrderPlaced, { orderId, amountCents: 100 + i })),
      );
      const host = hosts[0]!;
      await waitFor(
        async () =>
          (await host.find({ saga: saga.name, status: ['completed', 'compensated'] })).length === ORDERS,
        { timeoutMs: 150_000, intervalMs: 200, message: `${String(ORDERS)} instances ended` },
      );
      const all = await host.find({ saga: saga.name, limit: 1000 });
      const even = orders.filter((o) => Number(o.split('-')[1]) % 2 === 0).sort();
      const odd = orders.filter((o) => Number(o.split('-')[1]) % 2 === 1).sort();
      expect(
        all
          .filter((r) => r.status === 'completed')
          .map((r) => r.id)
          .sort(),
        'completed',
      ).to.deep.equal(even);
      expect(
        all
          .filter((r) => r.status === 'compensated')
          .map((r) => r.id)
          .sort(),
        'compensated',
      ).to.deep.equal(odd);
      for (const r of all) {
        const steps = (r.state as { steps: string[] }).steps;
        expect(steps, r.id).to.deep.equal(
          r.status === 'completed' ? ['placed', 'paid', 'dispatched'] : ['placed', 'payment-timeout'],
        );
      }
      // Downstream effects settle shortly after the last step committed.
      await waitFor(
        () =>
          [...effects.values()].filter((x) => x.kind === 'released').length >= odd.length &&
          [...effects.values()].filter((x) => x.kind === 'cancelled').length >= odd.length,
        {
          timeoutMs: 60_000,
        },
      );
      const count = (kind: string) =>
        [...effects.values()]
          .filter((x) => x.kind === kind)
          .map((x) => x.orderId)
          .sort();
      expect(count('shipped'), 'shipped').to.deep.equal(even);
      expect(count('released'), 'stock released').to.deep.equal(odd);
      expect(count('cancelled'), 'cancelled').to.deep.equal(odd);
      expect(count('charged'), 'charged').to.deep.equal(even);
      console.log(
        `      ${name}: ${String(ORDERS)} instances, ${String(conflicts.length)} version conflicts retried`,
      );
    });
  });
}
