// A migration from SQS (ElasticMQ) to Azure Service Bus (the emulator), selected from
// configuration (`transport: { name: 'migration', options: { from, to, phase, claims } }`)
// with the PostgreSQL claim store: every consumer bus opens its own pool, as separate processes
// would, and nothing but the database is shared between them. The migration case of
// test/support/migration-case.ts: 0 lost, 0 handled twice (docs/guides/migrating-brokers.md).
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TransportSelection } from '@omnibus/core';
import { migrate } from '@omnibus/outbox-postgres';
import { LOCAL_BROKER_OPTIONS } from '../src/local-brokers.js';
import { migrationCase, providerTransport } from './support/migration-case.js';

const POSTGRES_URL =
  process.env['OMNIBUS_TEST_POSTGRES_URL'] ?? 'postgres://omnibus:omnibus@127.0.0.1:55432/omnibus';
const run = randomBytes(3).toString('hex');
const schema = `t_migsb_${run}`;

/** Standard queues on ElasticMQ (one group per event here, so no SNS fan-out). */
const sqs: TransportSelection = {
  name: 'sqs',
  options: {
    ...LOCAL_BROKER_OPTIONS['sqs'],
    endpoint: 'http://127.0.0.1:9324',
    fanOut: 'none',
    queuePrefix: `mig${run}-`,
  },
};
const azure: TransportSelection = { name: 'azure', options: { ...LOCAL_BROKER_OPTIONS['azure'] } };

describe('migrating from SQS to Azure Service Bus, configured, with the PostgreSQL claim store', function () {
  this.timeout(400_000);
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max: 2 });

  before(async () => {
    await migrate(pool, { schema });
  });
  after(async () => {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await pool.end();
  });

  migrationCase(() => ({
    transport: (phase) =>
      Promise.resolve(
        phase === 'before'
          ? sqs
          : {
              name: 'migration',
              options: {
                from: sqs,
                to: azure,
                phase,
                claims: 'postgres',
                claimsUrl: POSTGRES_URL,
                claimsSchema: schema,
              },
            },
      ),
    probe: (side) => providerTransport(side === 'from' ? sqs : azure),
  }));
});
