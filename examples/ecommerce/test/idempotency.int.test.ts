// The idempotency harness (docs/guides/idempotency-harness.md) on the demo's real handlers: it
// catches the demo's BillingHandler charging a customer twice under at-least-once delivery, and
// passes once billing goes through the PostgreSQL inbox (InboxBillingHandler).
import 'reflect-metadata';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { EventBus, type PayloadOf } from '@omnibus/core';
import { IdempotencyViolation, proveIdempotent, type IdempotencyApp } from '@omnibus/core/testing';
import { InversifyHandlerResolver } from '@omnibus/di-inversify';
import { migrate, PostgresInbox } from '@omnibus/outbox-postgres';
import { Container } from 'inversify';
import pg from 'pg';
import { BillingHandler } from '../src/billing-handler.js';
import { ALL_EVENTS, OrderPlaced } from '../src/events.js';
import { BillingStore, InboxBillingHandler } from '../src/inbox-billing-handler.js';
import { NotificationHandler } from '../src/notification-handler.js';
import { PaymentGateway } from '../src/payment-gateway.js';
import { ShippingHandler } from '../src/shipping-handler.js';

const POSTGRES_URL =
  process.env['OMNIBUS_TEST_POSTGRES_URL'] ?? 'postgres://omnibus:omnibus@127.0.0.1:55432/omnibus';

const orders: PayloadOf<typeof OrderPlaced>[] = [
  { orderId: 'A', customer: 'Ada', amountCents: 4_200, card: '4111-0001' },
  { orderId: 'B', customer: 'Brian', amountCents: 1_999, card: '4111-0002' }, // the provider times out once
  { orderId: 'C', customer: 'Chen', amountCents: 12_500, card: '4111-0003' }, // always fails: dead-lettered
  { orderId: 'D', customer: 'Dana', amountCents: 800, card: '4111-0004' }, // declined
];

/** The state that must not depend on delivery: what each customer was charged. */
type Charges = readonly (readonly [string, number])[];

describe('the ecommerce demo under an at-least-once adversary (proveIdempotent)', function () {
  this.timeout(120_000);
  const schema = `t_idem_${randomBytes(3).toString('hex')}`;
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 4 });
  pool.on('error', () => undefined);
  const store = new BillingStore(pool, new PostgresInbox({ pool, schema }), `"${schema}".payments`);

  before(async () => {
    await migrate(pool, { schema });
    await store.createTable();
  });
  after(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  /** A fresh demo per run: its container, gateway and (for the inbox variant) emptied tables. */
  const demo =
    (billing: typeof BillingHandler | typeof InboxBillingHandler) =>
    async (): Promise<IdempotencyApp<Charges>> => {
      await pool.query(`TRUNCATE "${schema}".omnibus_inbox, ${store.payments}`);
      NotificationHandler.sent.length = 0;
      const container = new Container();
      container.bind(PaymentGateway).toSelf().inSingletonScope();
      container.bind(BillingStore).toConstantValue(store);
      container.bind<object>(billing).toSelf();
      container.bind(ShippingHandler).toSelf();
      container.bind(NotificationHandler).toSelf();
      const gateway = container.get(PaymentGateway);
      return {
        config: {
          events: [...ALL_EVENTS],
          handlers: [billing, ShippingHandler, NotificationHandler],
          resolver: new InversifyHandlerResolver(container),
          defaults: { retry: { initialDelayMs: 1, maxDelayMs: 1 } },
        },
        bind: (bus) => container.bind(EventBus).toConstantValue(bus),
        state: () =>
          gateway.captures.map((c): readonly [string, number] => [c.orderId, c.amountCents]).sort(),
      };
    };
  const input = async (bus: EventBus): Promise<void> => {
    for (const order of orders) await bus.publish(OrderPlaced, order, { partitionKey: order.orderId });
  };

  it('catches the demo BillingHandler charging twice, with a minimal schedule', async () => {
    const error = await proveIdempotent({ app: demo(BillingHandler), input, seed: 1, schedules: 30 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(IdempotencyViolation);
    const violation = error as IdempotencyViolation;
    if (process.env['SHOW'] === '1') console.log(violation.message);
    const faulty = violation.details.deliveries.filter((d) => d.fault !== 'none' || d.pick > 0);
    expect(faulty).to.have.length(1);
    expect(faulty[0]?.type).to.equal(OrderPlaced.name);
    expect(faulty[0]?.group).to.equal('billing');
    expect(violation.details.expected).to.deep.equal([
      ['A', 4_200],
      ['B', 1_999],
    ]);
    expect((violation.details.actual as Charges).length).to.equal(3);
  });

  it('passes once billing goes through the inbox', async () => {
    const report = await proveIdempotent({ app: demo(InboxBillingHandler), input, seed: 1, schedules: 30 });
    expect(report.faults.duplicate + report.faults['ack-lost'] + report.faults.crash).to.be.greaterThan(30);
  });
});
