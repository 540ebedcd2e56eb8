// The shared Omnibus transport contract suite against a real nats-server with JetStream (file
// storage), fault cases included (server restart, dropped connections, a consumer killed
// mid-handler).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeTransportContract } from '@omnibus/contract-tests';
import { openTelemetryHarness } from '@omnibus/contract-tests/telemetry';
import { NatsTransport, natsCapabilities, resolveNatsOptions } from '../src/index.js';
import type { NatsTransportInput } from '../src/index.js';
import {
  NATS_URL,
  NativeClient,
  dropNatsConnections,
  ensureNats,
  restartNats,
  uniquePrefix,
} from './nats-test-support.js';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const childTransportModule = fileURLToPath(new URL('./child-transport.js', import.meta.url));

const options: NatsTransportInput = {
  servers: [NATS_URL],
  prefix: uniquePrefix('contract'),
  reconnectWaitMs: 100,
  // A short ack wait: redelivery after a killed consumer or a dropped connection comes sooner, and
  // the lease extension (working()) is exercised by every handler that runs longer than ~1.7 s.
  // A lease cannot be extended for a delivery still unread in the socket: on a machine starved
  // enough to leave deliveries unread for over 5 s (five V1 runs at once on two cores) V1 sees
  // redeliveries; docs/transports/nats.md, rule 3.
  ackWaitMs: Number(process.env['OMNIBUS_TEST_NATS_ACK_WAIT_MS'] ?? '5000'),
  publishTimeoutMs: 10_000,
};
const native = new NativeClient(options.prefix as string);
process.env['OMNIBUS_TEST_NATS_OPTIONS'] = JSON.stringify(options);

before(async function () {
  this.timeout(120_000);
  await ensureNats();
});

describeTransportContract({
  name: 'nats (JetStream, file storage)',
  version: packageJson.version,
  capabilities: natsCapabilities(resolveNatsOptions(options)),
  createTransport: () => new NatsTransport(options),
  readDeadLetters: (destination, group, count, timeoutMs) =>
    native.readDeadLetters(destination, group, count, timeoutMs),
  publishForeign: (destination, body, headers) => native.publishForeign(destination, body, headers),
  publishTimeoutMs: 10_000,
  runFaultCases: process.env['CONTRACT_FAULTS'] !== 'off',
  timeScale: Number(process.env['CONTRACT_TIME_SCALE'] ?? '1'),
  telemetry: openTelemetryHarness(),
  faults: {
    restartBroker: restartNats,
    dropConnections: dropNatsConnections,
    childTransportModule,
  },
});

after(async function () {
  this.timeout(60_000);
  await native.cleanup();
});
