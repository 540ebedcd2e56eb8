#!/usr/bin/env node
// omnibus-outbox: migrate | ddl | relay | cleanup | lag. See docs/guides/outbox.md.
import { parseArgs } from 'node:util';
import pg from 'pg';
import { ConsoleLogger, createEventBus, loadConfigFromEnv } from '@omnibus/core';
import { cleanup, measureLag } from '../maintenance.js';
import { OutboxRelay } from '../relay/outbox-relay.js';
import { migrate } from '../schema/migrate.js';
import { outboxDdl } from '../schema/outbox-ddl.js';
import { outboxTables } from '../schema/outbox-tables.js';

const USAGE = `usage: omnibus-outbox <command> [--url postgres://…] [--schema public] [--prefix omnibus_]
commands:
  migrate                      create the outbox, dead-letter, inbox, saga and migration-claims tables (idempotent)
  ddl                          print the DDL (for your own migration tool)
  relay [--batch-size 100] [--concurrency 1]
                               publish committed rows to the transport configured by OMNIBUS_TRANSPORT
                               and OMNIBUS_<TRANSPORT>_* (as loadConfigFromEnv); stops on SIGTERM/SIGINT
  cleanup [--retention-ms N] [--inbox-retention-ms N] [--migration-claims-retention-ms N]
                               delete dispatched rows / old inbox rows / old migration claims once
  lag                          print pending rows and the oldest's age
--url defaults to OMNIBUS_OUTBOX_DATABASE_URL, then DATABASE_URL.`;

async function main(): Promise<number> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      schema: { type: 'string' },
      prefix: { type: 'string' },
      'batch-size': { type: 'string' },
      concurrency: { type: 'string' },
      'retention-ms': { type: 'string' },
      'inbox-retention-ms': { type: 'string' },
      'migration-claims-retention-ms': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const command = positionals[0];
  if (command === undefined || values.help === true) {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const tableOptions = {
    ...(values.schema === undefined ? {} : { schema: values.schema }),
    ...(values.prefix === undefined ? {} : { prefix: values.prefix }),
  };
  if (command === 'ddl') {
    process.stdout.write(outboxDdl(outboxTables(tableOptions)));
    return 0;
  }
  const url = values.url ?? process.env['OMNIBUS_OUTBOX_DATABASE_URL'] ?? process.env['DATABASE_URL'];
  if (url === undefined || url === '') {
    process.stderr.write(`no database: pass --url or set OMNIBUS_OUTBOX_DATABASE_URL\n${USAGE}\n`);
    return 2;
  }
  const num = (value: string | undefined): number | undefined =>
    value === undefined ? undefined : Number(value);
  if (command === 'relay')
    return relay(url, tableOptions, num(values['batch-size']), num(values.concurrency));
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    switch (command) {
      case 'migrate': {
        const { schema } = await migrate(pool, tableOptions);
        process.stdout.write(`outbox tables ready in schema "${schema}"\n`);
        return 0;
      }
      case 'cleanup': {
        const retention = num(values['retention-ms']);
        const inboxRetention = num(values['inbox-retention-ms']);
        const claimsRetention = num(values['migration-claims-retention-ms']);
        const result = await cleanup(pool, {
          ...tableOptions,
          ...(retention === undefined ? {} : { outboxRetentionMs: retention }),
          ...(inboxRetention === undefined ? {} : { inboxRetentionMs: inboxRetention }),
          ...(claimsRetention === undefined ? {} : { migrationClaimsRetentionMs: claimsRetention }),
        });
        process.stdout.write(
          `deleted ${String(result.outbox)} outbox rows, ${String(result.inbox)} inbox rows, ${String(result.migrationClaims)} migration claims\n`,
        );
        return 0;
      }
      case 'lag': {
        const lag = await measureLag(pool, outboxTables(tableOptions));
        process.stdout.write(`${JSON.stringify(lag)}\n`);
        return 0;
      }
      default:
        process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
        return 2;
    }
  } finally {
    await pool.end();
  }
}

async function relay(
  url: string,
  tableOptions: { schema?: string; prefix?: string },
  batchSize: number | undefined,
  concurrency: number | undefined,
): Promise<number> {
  const logger = new ConsoleLogger({ level: 'info' });
  const bus = createEventBus({ ...loadConfigFromEnv(process.env), logger });
  await bus.start();
  const relay = new OutboxRelay({
    ...tableOptions,
    bus,
    connectionString: url,
    logger,
    ...(batchSize === undefined ? {} : { batchSize }),
    ...(concurrency === undefined ? {} : { concurrency }),
  });
  relay.on('lag', (lag) => logger.info('outbox lag', { ...lag }));
  relay.start();
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  await relay.stop();
  await bus.stop();
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`omnibus-outbox: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
