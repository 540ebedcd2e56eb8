import { EventBus, EventHandler, type HandlerContext, type PayloadOf } from '@omnibus/core';
import { PostgresInbox, type SqlPool } from '@omnibus/outbox-postgres';
import { inject, injectable } from 'inversify';
import { OrderPlaced, PaymentFailed, PaymentSucceeded } from './events.js';
import { PaymentGateway, type ChargeResult } from './payment-gateway.js';

type Order = PayloadOf<typeof OrderPlaced>;

/** Where {@link InboxBillingHandler} keeps its inbox and payments (a schema-qualified table name and its pool). */
export class BillingStore {
  constructor(
    readonly pool: SqlPool,
    readonly inbox: PostgresInbox,
    /** Quoted, schema-qualified name of the payments table. */
    readonly payments: string,
  ) {}

  /** Create the payments table (the inbox's tables come from `migrate`). Idempotent. */
  async createTable(): Promise<void> {
    await this.pool.query(
      `CREATE TABLE IF NOT EXISTS ${this.payments} (order_id text PRIMARY KEY, result jsonb NOT NULL)`,
    );
  }
}

/**
 * {@link BillingHandler} made idempotent with the inbox: the charge and its recorded result commit
 * in one transaction with the message id, so a redelivered or duplicated OrderPlaced finds the id
 * and does not charge again. The follow-up event is (re)published from the recorded result on
 * every delivery, with an id derived from the order message's id: a crash after the commit but
 * before the publish loses nothing, and consumers can deduplicate the copies.
 */
@injectable()
export class InboxBillingHandler {
  constructor(
    @inject(EventBus) private readonly bus: EventBus,
    @inject(PaymentGateway) private readonly gateway: PaymentGateway,
    @inject(BillingStore) private readonly store: BillingStore,
  ) {}

  @EventHandler(OrderPlaced, {
    group: 'billing',
    retry: { maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 1_000 },
  })
  async onOrderPlaced(order: Order, context: HandlerContext): Promise<void> {
    await this.store.inbox.run('billing', context.envelope.id, async (tx) => {
      const result = await this.gateway.charge(order.orderId, order.card, order.amountCents);
      await tx.query(`INSERT INTO ${this.store.payments} (order_id, result) VALUES ($1, $2)`, [
        order.orderId,
        JSON.stringify(result),
      ]);
    });
    const { rows } = await this.store.pool.query(
      `SELECT result FROM ${this.store.payments} WHERE order_id = $1`,
      [order.orderId],
    );
    const result = (rows[0] as { result: ChargeResult } | undefined)?.result;
    if (result === undefined) throw new Error(`no payment recorded for order ${order.orderId}`);
    const id = `billing-${context.envelope.id}`;
    if (result.status === 'captured') {
      await this.bus.publish(
        PaymentSucceeded,
        { orderId: order.orderId, paymentId: result.paymentId, amountCents: order.amountCents },
        { id },
      );
    } else {
      await this.bus.publish(PaymentFailed, { orderId: order.orderId, reason: result.reason }, { id });
    }
  }
}
