import { describeStartUpFailure } from '@omnibus/contract-tests';

// Nothing listens on port 1. The bound is the documented default (docs/concepts/configuration.md).
describeStartUpFailure({
  transport: 'nats',
  env: { OMNIBUS_NATS_SERVERS: 'nats://127.0.0.1:1' },
  connectTimeoutMs: 10_000,
  cwd: new URL('../..', import.meta.url),
});
