import { fileURLToPath } from 'node:url';
import { InMemoryBroker, InMemoryTransport } from '@omnibus/core';
import { describeTransportContract } from '../src/index.js';
import { openTelemetryHarness } from '../src/telemetry/index.js';
import { BRIDGE_PORT_ENV, InMemoryBridge } from './support/in-memory-bridge.js';

// The reference run: the in-memory transport must pass every applicable case.
const broker = new InMemoryBroker();
const capabilities = new InMemoryTransport({ broker }).capabilities;

// The SIGKILL case runs its consumer in a child process; the bridge lets that child consume
// from this process's broker over loopback TCP (the child inherits the port via the environment).
const bridge = new InMemoryBridge(broker);
process.env[BRIDGE_PORT_ENV] = String(await bridge.listen());
after(() => bridge.close());

describeTransportContract({
  name: 'in-memory',
  version: '0.1.0',
  capabilities,
  createTransport: () => new InMemoryTransport({ broker }),
  readDeadLetters: (destination, group, count, timeoutMs) =>
    broker.waitForDeadLetters(destination, group, count, timeoutMs),
  publishForeign: (destination, body, headers) => broker.publishForeign(destination, body, headers),
  telemetry: openTelemetryHarness(),
  faults: {
    restartBroker: () => broker.simulateRestart(50),
    dropConnections: () => {
      broker.dropConnections();
      return Promise.resolve();
    },
    childTransportModule: fileURLToPath(new URL('./support/in-memory-child-transport.js', import.meta.url)),
  },
});

// A second configuration: publish de-duplication on, small payload limit, bounded delays,
// prefetch 1. Fault cases run once per transport, so they are off here.
const dedupBroker = new InMemoryBroker();
const dedupOptions = {
  broker: dedupBroker,
  deduplicationWindowMs: 60_000,
  maxPayloadBytes: 4096,
  maxDelayMs: 3_600_000,
  prefetch: 1,
};

describeTransportContract({
  name: 'in-memory (dedup window, 4 KiB limit, prefetch 1)',
  version: '0.1.0',
  capabilities: new InMemoryTransport(dedupOptions).capabilities,
  createTransport: () => new InMemoryTransport(dedupOptions),
  readDeadLetters: (destination, group, count, timeoutMs) =>
    dedupBroker.waitForDeadLetters(destination, group, count, timeoutMs),
  publishForeign: (destination, body, headers) => dedupBroker.publishForeign(destination, body, headers),
  runFaultCases: false,
});
