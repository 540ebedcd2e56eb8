// The outbox ledger: application transactions commit or roll back at random while the relay
// processes, the application and the consumer are SIGKILLed and PostgreSQL and the broker
// restart. Expected: every committed message delivered (0 lost), no rolled-back message
// delivered, duplicates counted, and with the inbox each committed message's effect applied
// exactly once. Restarts brokers: run this stage only under the broker lock
// (flock /tmp/omnibus-brokers.lock node scripts/test.mjs outbox-ledger).
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { waitFor } from '@omnibus/core/testing';
import { migrate } from '../../src/index.js';
import { dropSchema, POSTGRES_URL, testPool, uniqueSchema } from '../support/database.js';
import { ledgerDdl, type LedgerSettings } from './ledger-config.js';
import { LedgerProcess } from './ledger-process.js';

interface BrokerManager {
  restart(name: string): Promise<{ pid: number; previousPid: number | null }>;
}
const brokerManager = async (): Promise<BrokerManager> =>
  (await import(new URL('../../../../../scripts/brokers/index.mjs', import.meta.url).href)) as BrokerManager;

const transports = (process.env['OMNIBUS_LEDGER_TRANSPORTS'] ?? 'rabbitmq,kafka').split(',').filter(Boolean);

for (const transport of transports) {
  describe(`outbox ledger on ${transport}: kill -9 and restarts lose nothing, publish nothing rolled back, inbox applies effects once`, function () {
    this.timeout(600_000);
    let pool: pg.Pool;
    let schema: string;
    const processes: LedgerProcess[] = [];

    before(async () => {
      pool = testPool();
      schema = uniqueSchema(`ledger_${transport}`);
      await migrate(pool, { schema });
      await pool.query(ledgerDdl(schema));
    });

    after(async () => {
      await Promise.all(processes.map((p) => p.kill()));
      await dropSchema(pool, schema).catch(() => undefined);
      await pool.end();
    });

    it('ledger', async () => {
      const logs = mkdtempSync(join(tmpdir(), `omnibus-ledger-${transport}-`));
      const base: LedgerSettings = {
        url: POSTGRES_URL,
        schema,
        transport,
        eventName: `ledger.${schema}`,
        group: `ledger-${schema}`,
      };
      let appIncarnation = 0;
      const consumer = new LedgerProcess('consumer', () => base, join(logs, 'consumer.log'));
      const relays = [0, 1].map(
        (i) => new LedgerProcess('relay', () => base, join(logs, `relay-${String(i)}.log`)),
      );
      const app = new LedgerProcess(
        'app',
        () => ({ ...base, firstN: ++appIncarnation * 1_000_000, commitRatio: 0.7 }),
        join(logs, 'app.log'),
      );
      processes.push(consumer, ...relays, app);
      const count = async (table: string, distinct = false): Promise<number> =>
        (
          await pool.query<{ n: number }>(
            `SELECT count(${distinct ? 'DISTINCT id' : '*'})::int AS n FROM "${schema}".${table}`,
          )
        ).rows[0]!.n;
      // Wait for `n` more committed transactions (faults happen while traffic flows).
      const progress = async (n: number): Promise<void> => {
        const target = (await count('ledger_orders')) + n;
        await waitFor(async () => (await count('ledger_orders')) >= target, {
          timeoutMs: 120_000,
          intervalMs: 100,
          message: `${String(n)} more commits`,
        });
      };
      const brokers = await brokerManager();
      const restarts = { postgres: 0, broker: 0 };
      const t0 = Date.now();

      // The consumer subscribes first, so its queue/group exists before anything is published.
      await consumer.start();
      await Promise.all(relays.map((r) => r.start()));
      await app.start();

      await progress(200);
      await relays[0]!.restart();
      await progress(200);
      await app.restart();
      await progress(200);
      await brokers.restart('postgres');
      restarts.postgres += 1;
      await progress(200);
      await brokers.restart(transport);
      restarts.broker += 1;
      await progress(200);
      await consumer.restart();
      await progress(200);
      await relays[1]!.restart();
      await progress(200);
      await relays[0]!.restart();
      await progress(100);
      await app.kill(); // the last incarnation dies mid-transaction too; no new writes after this

      const committed = await count('ledger_orders');
      // Drain: every committed message handled once (or the wait times out and the checks below say what is missing).
      await waitFor(async () => (await count('ledger_effects', true)) >= committed, {
        timeoutMs: 240_000,
        intervalMs: 250,
      }).catch(() => undefined);

      const q = async (sql: string): Promise<number> =>
        (await pool.query<{ n: number }>(sql.replaceAll('$s', `"${schema}"`))).rows[0]!.n;
      const lost = await q(
        `SELECT count(*)::int AS n FROM $s.ledger_orders o WHERE NOT EXISTS (SELECT 1 FROM $s.ledger_deliveries d WHERE d.id = o.id)`,
      );
      const phantom = await q(
        `SELECT count(DISTINCT d.id)::int AS n FROM $s.ledger_deliveries d WHERE NOT EXISTS (SELECT 1 FROM $s.ledger_orders o WHERE o.id = d.id)`,
      );
      const rolledBackPublished = await q(
        `SELECT count(DISTINCT d.id)::int AS n FROM $s.ledger_deliveries d JOIN $s.ledger_rolled_back r USING (id)`,
      );
      const effectsNotOnce = await q(
        `SELECT count(*)::int AS n FROM (SELECT o.id FROM $s.ledger_orders o LEFT JOIN $s.ledger_effects e USING (id) GROUP BY o.id HAVING count(e.id) <> 1) x`,
      );
      const effectsWithoutOrder = await q(
        `SELECT count(*)::int AS n FROM $s.ledger_effects e WHERE NOT EXISTS (SELECT 1 FROM $s.ledger_orders o WHERE o.id = e.id)`,
      );
      const deliveries = await count('ledger_deliveries');
      const distinctDelivered = await count('ledger_deliveries', true);
      const rolledBack = await count('ledger_rolled_back');
      const outboxDuplicates = await q(
        `SELECT count(*)::int AS n FROM (SELECT id FROM $s.omnibus_outbox GROUP BY id HAVING count(*) > 1) x`,
      );
      const deadLettered = await q(`SELECT count(*)::int AS n FROM $s.omnibus_outbox_dead_letter`);
      const kills = { relay: relays[0]!.kills + relays[1]!.kills, app: app.kills, consumer: consumer.kills };
      const result = {
        transport,
        committed,
        rolledBack,
        lost,
        rolledBackPublished,
        phantom,
        deliveries,
        duplicateDeliveries: deliveries - distinctDelivered,
        effectsNotExactlyOnce: effectsNotOnce,
        effectsWithoutOrder,
        outboxDuplicates,
        deadLettered,
        kills,
        restarts,
        seconds: Math.round((Date.now() - t0) / 1000),
        logs,
      };
      console.log(`      ledger ${JSON.stringify(result)}`);

      expect(committed, 'committed').to.be.greaterThan(1000);
      expect(rolledBack, 'rolled back').to.be.greaterThan(200);
      expect(lost, 'committed messages never delivered').to.equal(0);
      expect(rolledBackPublished, 'rolled-back messages delivered').to.equal(0);
      expect(phantom, 'delivered messages with no committed order').to.equal(0);
      expect(effectsNotOnce, 'committed orders whose effect is not applied exactly once').to.equal(0);
      expect(effectsWithoutOrder, 'effects of uncommitted orders').to.equal(0);
      expect(outboxDuplicates, 'outbox rows per message id').to.equal(0);
      expect(deadLettered, 'dead-lettered outbox rows').to.equal(0);
      expect(kills).to.deep.equal({ relay: 3, app: 2, consumer: 1 });
    });
  });
}
