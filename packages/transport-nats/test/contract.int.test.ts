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
  // Known finding, reported as the visible skip reason (OMNIBUS_CONTRACT_IGNORE_LIMITS=1 runs it).
  limits: {
    V1: "intermittent on nats (failed 1 of 5 runs after the pull-request fix, at load 12-14; passed in 10-37 s otherwise): some messages' first recorded attempt is 2 followed by a 1, the same ids in both unordered groups, and 2 of 240 dead letters missing. Suspected, not verified: an event-loop stall longer than the test's 5 s ack wait during the publish burst (leases lapse, the redelivery overtakes the queued first delivery). The earlier finding (attempts 1, 3: a delivery handed to a pull request the client had given up on) is fixed",
  },
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
