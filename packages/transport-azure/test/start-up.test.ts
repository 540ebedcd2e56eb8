import { describeStartUpFailure } from '@omnibus/contract-tests';

// Nothing listens on port 1. The bound is the documented default (docs/concepts/configuration.md).
describeStartUpFailure({
  transport: 'azure',
  env: {
    OMNIBUS_AZURE_CONNECTION_STRING:
      'Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;',
    OMNIBUS_AZURE_PROVISIONING: 'emulator',
  },
  connectTimeoutMs: 10_000,
  cwd: new URL('../..', import.meta.url),
});
