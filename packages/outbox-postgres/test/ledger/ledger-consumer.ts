// Ledger child: the consumer. Every delivery is counted (autocommit, outside the inbox), then the
// inbox runs the handler's effect in one transaction with the (group, id) record.
import pg from 'pg';
import { createEventBus, EventHandler, type HandlerMiddleware } from '@omnibus/core';
import { PostgresInbox } from '../../src/index.js';
import { ledgerEvent, settingsFromArgv, type LedgerPayload } from './ledger-config.js';

const settings = settingsFromArgv();
const event = ledgerEvent(settings);
const pool = new pg.Pool({ connectionString: settings.url, max: 12 });
pool.on('error', () => undefined);
const inbox = new PostgresInbox({ pool, schema: settings.schema });
const s = `"${settings.schema}"`;

const countDelivery: HandlerMiddleware = async (context, next) => {
  await pool.query(`INSERT INTO ${s}.ledger_deliveries (id) VALUES ($1)`, [context.envelope.id]);
  await next();
};

class LedgerHandler {
  @EventHandler(event, {
    group: settings.group,
    concurrency: 8,
    // Survive a PostgreSQL or broker restart without dead-lettering.
    retry: { maxAttempts: 30, initialDelayMs: 200, multiplier: 2, maxDelayMs: 2000, jitter: 0.2 },
    middleware: [countDelivery, inbox.middleware()],
  })
  async handle(payload: LedgerPayload, context: { envelope: { id: string } }): Promise<void> {
    await inbox
      .transaction()
      .query(`INSERT INTO ${s}.ledger_effects (id) VALUES ($1)`, [context.envelope.id]);
    void payload;
  }
}

const bus = createEventBus({
  transport: { name: settings.transport, options: {} },
  handlers: [LedgerHandler],
});
await bus.start();
process.stdout.write('ready\n');
