// Optional: place orders through the transactional outbox when OMNIBUS_OUTBOX_DATABASE_URL is set.
// The order rows and their OrderPlaced events commit in one PostgreSQL transaction; an in-process
// relay publishes the events to the bus's transport. Without the variable the demo publishes
// directly (in-memory or whichever transport is configured), exactly as before.
import type { EventBus, PayloadOf } from '@omnibus/core';
import { migrate, OutboxRelay, PostgresOutbox, withTransaction } from '@omnibus/outbox-postgres';
import pg from 'pg';
import { OrderPlaced } from './events.js';

/** The environment variable that turns the outbox on (a PostgreSQL connection string). */
export const OUTBOX_URL_VARIABLE = 'OMNIBUS_OUTBOX_DATABASE_URL';

/** How the demo places orders. */
export interface OrderPlacer {
  readonly description: string;
  place(orders: readonly PayloadOf<typeof OrderPlaced>[]): Promise<void>;
  close(): Promise<void>;
}

/** Publish directly on the bus (no database). */
export const directOrderPlacer = (bus: EventBus): OrderPlacer => ({
  description: 'published directly on the bus',
  place: async (orders) => {
    await bus.publishBatch(OrderPlaced, orders, (order) => ({ partitionKey: order.orderId }));
  },
  close: () => Promise.resolve(),
});

/**
 * Write each order row and its event in one transaction (schema `omnibus_demo`), relay them from
 * an in-process relay. Call after `bus.start()`.
 */
export async function outboxOrderPlacer(bus: EventBus, url: string): Promise<OrderPlacer> {
  const schema = 'omnibus_demo';
  const pool = new pg.Pool({ connectionString: url, max: 4 });
  pool.on('error', () => undefined); // an idle connection lost (database restart): the pool replaces it
  await migrate(pool, { schema });
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${schema}.orders (id text PRIMARY KEY, customer text NOT NULL, amount_cents int NOT NULL)`,
  );
  const outbox = new PostgresOutbox({ schema });
  const relay = new OutboxRelay({ bus, pool, schema, pollIntervalMs: 500 });
  relay.start();
  return {
    description: `written to PostgreSQL with their orders (schema ${schema}) and relayed by the outbox`,
    place: async (orders) => {
      await withTransaction(pool, async (tx) => {
        for (const order of orders) {
          await tx.query(`INSERT INTO ${schema}.orders (id, customer, amount_cents) VALUES ($1, $2, $3)`, [
            order.orderId,
            order.customer,
            order.amountCents,
          ]);
        }
        await outbox.publishBatch(tx, OrderPlaced, orders, (order) => ({ partitionKey: order.orderId }));
      });
    },
    close: async () => {
      await relay.stop();
      await pool.end();
    },
  };
}
