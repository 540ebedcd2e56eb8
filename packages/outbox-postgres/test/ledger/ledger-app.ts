// Ledger child: the application. Transactions write an order row and publish its event through
// the outbox, then commit or roll back at random. Rolled-back ids are recorded after the
// ROLLBACK. Database errors (PostgreSQL restarting) are survived: the outcome of such a
// transaction is whatever the database says (the order row exists or not).
import pg from 'pg';
import { PostgresOutbox } from '../../src/index.js';
import { ledgerEvent, settingsFromArgv } from './ledger-config.js';

const settings = settingsFromArgv();
const event = ledgerEvent(settings);
const pool = new pg.Pool({ connectionString: settings.url, max: 4 });
pool.on('error', () => undefined);
const outbox = new PostgresOutbox({ schema: settings.schema });
const s = `"${settings.schema}"`;
let next = settings.firstN ?? 0;
const KEYS = 8;

async function transaction(): Promise<void> {
  const n = next++;
  const id = `m-${String(n)}`;
  const key = `k${String(n % KEYS)}`;
  const tx = await pool.connect();
  // pg emits a connection lost while checked out (PostgreSQL restarting) as an 'error' event.
  const ignore = (): void => undefined;
  tx.on('error', ignore);
  let broken = false;
  try {
    await tx.query('BEGIN');
    await tx.query(`INSERT INTO ${s}.ledger_orders (id, key, n) VALUES ($1, $2, $3)`, [id, key, n]);
    await outbox.publish(tx, event, { n, key }, { id, partitionKey: key });
    if (Math.random() < (settings.commitRatio ?? 0.7)) {
      await tx.query('COMMIT');
    } else {
      await tx.query('ROLLBACK');
      await pool.query(`INSERT INTO ${s}.ledger_rolled_back (id) VALUES ($1)`, [id]);
    }
  } catch {
    broken = true;
    await tx.query('ROLLBACK').catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    tx.removeListener('error', ignore);
    tx.release(broken);
  }
}

async function loop(): Promise<void> {
  for (;;) {
    await transaction().catch(() => new Promise((resolve) => setTimeout(resolve, 100)));
    // About 100 transactions per second in all: enough traffic to kill into, a backlog the
    // consumer drains quickly after a slow broker restart.
    await new Promise((resolve) => setTimeout(resolve, 12));
  }
}

process.stdout.write('ready\n');
// Two loops, so transactions interleave and commit in an order that differs from seq order.
void Promise.all([loop(), loop()]);
