import { describeStartUpFailure } from '@omnibus/contract-tests';

// Nothing listens on port 1. The bound is the documented default (docs/concepts/configuration.md).
describeStartUpFailure({
  transport: 'sqs',
  env: {
    OMNIBUS_SQS_ENDPOINT: 'http://127.0.0.1:1',
    OMNIBUS_SQS_REGION: 'us-east-1',
    OMNIBUS_SQS_ACCESS_KEY_ID: 'local',
    OMNIBUS_SQS_SECRET_ACCESS_KEY: 'local',
  },
  connectTimeoutMs: 10_000,
  cwd: new URL('../..', import.meta.url),
});
