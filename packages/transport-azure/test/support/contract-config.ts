import { randomUUID } from 'node:crypto';
import { AzureServiceBusTransport } from '../../src/azure-service-bus-transport.js';
import type { AzureServiceBusOptionsInput } from '../../src/azure-options.js';

/** Connection string of the repository's emulator as started by `npm run brokers -- up azure`. */
export const EMULATOR_CONNECTION_STRING =
  process.env['OMNIBUS_AZURE_EMULATOR_CONNECTION_STRING'] ??
  'Endpoint=sb://127.0.0.1:5673;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;';

/** Admin API of that emulator. */
export const EMULATOR_ADMIN_URL = process.env['OMNIBUS_AZURE_EMULATOR_ADMIN_URL'] ?? 'http://127.0.0.1:5674';

/** Set to run the suite a second time against a real namespace (needs Manage rights). */
export const LIVE_CONNECTION_STRING = process.env['AZURE_SERVICEBUS_CONNECTION_STRING'];

/**
 * Options of the emulator run, tuned only to keep the run short: a 10 s lock (instead of 30 s)
 * shortens how long the SIGKILL case waits for the killed consumer's lock to expire (locks are
 * renewed while handlers run); a 5 s operation timeout shortens how long a send in flight when
 * the emulator restarts waits before the SDK retries it; a 2 s session accept timeout shortens
 * closing idle ordered subscriptions.
 */
export function emulatorOptions(): AzureServiceBusOptionsInput {
  return {
    connectionString: EMULATOR_CONNECTION_STRING,
    provisioning: 'emulator',
    emulatorAdminUrl: EMULATOR_ADMIN_URL,
    lockDurationMs: 10_000,
    sessionAcceptTimeoutMs: 2_000,
    operationTimeoutMs: 5_000,
  };
}

/**
 * Topic prefix of the live run: one per process, shared with the SIGKILL child through the
 * environment, so every entity the run creates can be found and deleted afterwards.
 */
export function livePrefix(): string {
  process.env['OMNIBUS_AZURE_LIVE_PREFIX'] ??= `omnibus-ct-${randomUUID().slice(0, 8)}.`;
  return process.env['OMNIBUS_AZURE_LIVE_PREFIX'];
}

/** Options of the live run (admin-client provisioning, run-scoped prefix). */
export function liveOptions(connectionString: string): AzureServiceBusOptionsInput {
  return { connectionString, provisioning: 'admin-client', prefix: livePrefix(), lockDurationMs: 10_000 };
}

/** A fresh, unconnected transport for the emulator run. */
export function createEmulatorTransport(): AzureServiceBusTransport {
  return new AzureServiceBusTransport(emulatorOptions());
}
