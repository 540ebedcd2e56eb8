// Ledger child: a relay process (bus with the run's transport, no handlers). Killed with SIGKILL.
import { createEventBus } from '@omnibus/core';
import { OutboxRelay } from '../../src/index.js';
import { settingsFromArgv } from './ledger-config.js';

const settings = settingsFromArgv();
const bus = createEventBus({ transport: { name: settings.transport, options: {} } });
await bus.start();
const relay = new OutboxRelay({
  bus,
  schema: settings.schema,
  connectionString: settings.url,
  batchSize: 50,
  pollIntervalMs: 200,
  lagIntervalMs: 0,
  backoff: { baseMs: 100, maxMs: 2000 },
});
relay.on('error', ({ error, consecutiveFailures }) => {
  process.stderr.write(
    `relay error #${String(consecutiveFailures)}: ${error instanceof Error ? error.message : String(error)}\n`,
  );
});
relay.start();
process.stdout.write('ready\n');
