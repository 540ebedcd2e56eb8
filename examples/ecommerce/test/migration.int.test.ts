// A migration from RabbitMQ to Kafka with MigrationTransport (docs/guides/migrating-brokers.md),
// the claims kept in one in-process window shared by the consumers of this process across
// restarts: the migration case of test/support/migration-case.ts on the real brokers.
import { InProcessMigrationClaims, MigrationTransport, type Transport } from '@omnibus/core';
import { LOCAL_BROKER_OPTIONS } from '../src/local-brokers.js';
import { migrationCase, providerTransport } from './support/migration-case.js';

/** A transport pointed at the local broker. */
const create = (name: 'rabbitmq' | 'kafka'): Promise<Transport> =>
  providerTransport({ name, options: { ...LOCAL_BROKER_OPTIONS[name] } });

describe('migrating from RabbitMQ to Kafka with MigrationTransport', function () {
  this.timeout(300_000);
  const claims = new InProcessMigrationClaims();
  migrationCase(() => ({
    transport: async (phase) =>
      phase === 'before'
        ? create('rabbitmq')
        : new MigrationTransport({
            from: await create('rabbitmq'),
            to: await create('kafka'),
            phase,
            claims,
          }),
    probe: (side) => create(side === 'from' ? 'rabbitmq' : 'kafka'),
  }));
});
