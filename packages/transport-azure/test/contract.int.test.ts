import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ServiceBusAdministrationClient } from '@azure/service-bus';
import { describeTransportContract } from '@omnibus/contract-tests';
import { openTelemetryHarness } from '@omnibus/contract-tests/telemetry';
import type { TransportContractOptions } from '@omnibus/contract-tests';
import { AzureServiceBusTransport } from '../src/azure-service-bus-transport.js';
import { resolveAzureOptions } from '../src/azure-options.js';
import type { AzureServiceBusOptionsInput } from '../src/azure-options.js';
import { subscriptionName, topicName } from '../src/entity-names.js';
import {
  EMULATOR_ADMIN_URL,
  EMULATOR_CONNECTION_STRING,
  LIVE_CONNECTION_STRING,
  emulatorOptions,
  liveOptions,
  livePrefix,
} from './support/contract-config.js';
import { NativeServiceBus } from './support/native-client.js';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const version = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
const child = (name: string): string => fileURLToPath(new URL(`./support/${name}.js`, import.meta.url));

/** The contract options for one configuration; the native client does the out-of-band work. */
function contractOptions(
  name: string,
  options: AzureServiceBusOptionsInput,
  native: NativeServiceBus,
  faults: TransportContractOptions['faults'],
  extra: Partial<TransportContractOptions> = {},
): TransportContractOptions {
  const prefix = options.prefix ?? '';
  return {
    name,
    version,
    capabilities: new AzureServiceBusTransport(options).capabilities,
    createTransport: () => new AzureServiceBusTransport(options),
    readDeadLetters: (destination, group, count, timeoutMs) =>
      native.readDeadLetters(topicName(prefix, destination), subscriptionName(group), count, timeoutMs),
    publishForeign: (destination, body, headers) =>
      native.publishForeign(topicName(prefix, destination), body, headers),
    ...(faults === undefined ? {} : { faults }),
    telemetry: openTelemetryHarness(),
    ...extra,
  };
}

// The emulator as managed by scripts/brokers (`node scripts/brokers/cli.mjs up azure`): a
// separate process, so the restart case can stop it (it snapshots its state on SIGTERM) and
// start it again. Dropped connections: its admin API cuts every client socket while it keeps
// running (message locks survive until they expire, session locks are released).
const emulatorNative = new NativeServiceBus(EMULATOR_CONNECTION_STRING);
after(() => emulatorNative.close());

describeTransportContract(
  contractOptions(
    'azure (servicebus emulator)',
    emulatorOptions(),
    emulatorNative,
    {
      restartBroker: async () => {
        await run(process.execPath, ['scripts/brokers/cli.mjs', 'restart', 'azure'], {
          cwd: repoRoot,
          timeout: 60_000,
        });
      },
      dropConnections: () => dropEmulatorConnections(EMULATOR_ADMIN_URL),
      childTransportModule: child('child-transport-emulator'),
    },
    {
      publishTimeoutMs: resolveAzureOptions(emulatorOptions()).publishTimeoutMs,
    },
  ),
);

if (LIVE_CONNECTION_STRING === undefined) {
  describe('Omnibus transport contract: azure (live namespace)', () => {
    it.skip('live Service Bus namespace (skipped: AZURE_SERVICEBUS_CONNECTION_STRING not set)', () =>
      undefined);
  });
} else {
  const connectionString = LIVE_CONNECTION_STRING;
  const liveNative = new NativeServiceBus(connectionString);
  const prefix = livePrefix();
  after(async function () {
    this.timeout(120_000);
    await liveNative.close();
    await deleteTopicsWithPrefix(connectionString, prefix);
  });
  // No broker restart on a managed namespace; the SIGKILL case still runs.
  describeTransportContract(
    contractOptions(
      'azure (live namespace)',
      liveOptions(connectionString),
      liveNative,
      { childTransportModule: child('child-transport-live') },
      { timeScale: 2 },
    ),
  );
}

/** Remove every topic (with its subscriptions) the live run created. */
async function deleteTopicsWithPrefix(connectionString: string, prefix: string): Promise<void> {
  const admin = new ServiceBusAdministrationClient(connectionString);
  const names: string[] = [];
  for await (const topic of admin.listTopics()) {
    if (topic.name.startsWith(prefix)) names.push(topic.name);
  }
  await Promise.all(names.map((name) => admin.deleteTopic(name).catch(() => undefined)));
}

/** `POST /connections/drop` on the emulator's admin API; fails loudly when the emulator lacks it. */
async function dropEmulatorConnections(adminUrl: string): Promise<void> {
  const response = await fetch(`${adminUrl.replace(/\/+$/, '')}/connections/drop`, {
    method: 'POST',
    signal: AbortSignal.timeout(10_000),
  });
  if (response.status !== 200) {
    throw new Error(
      `emulator admin API refused POST /connections/drop: HTTP ${String(response.status)} (rebuild and restart the emulator)`,
    );
  }
  const { dropped } = (await response.json()) as { dropped?: unknown };
  if (typeof dropped !== 'number' || dropped < 1) {
    throw new Error(
      `POST /connections/drop cut no connection (${String(dropped)}): the fault was not injected`,
    );
  }
}
