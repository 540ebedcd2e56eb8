import { InMemoryBroker, InMemoryTransport } from '@omnibus/core';
import { describeTransportContract } from '../src/index.js';

// The reference run: the in-memory transport must pass every applicable case.
const broker = new InMemoryBroker();
const capabilities = new InMemoryTransport({ broker }).capabilities;

describeTransportContract({
  name: 'in-memory',
  version: '0.1.0',
  capabilities,
  createTransport: () => new InMemoryTransport({ broker }),
  readDeadLetters: (destination, group, count, timeoutMs) => broker.waitForDeadLetters(destination, group, count, timeoutMs),
  publishForeign: (destination, body, headers) => broker.publishForeign(destination, body, headers),
  faults: {
    restartBroker: () => broker.simulateRestart(50),
    dropConnections: () => {
      broker.dropConnections();
      return Promise.resolve();
    },
  },
});

// A second configuration: publish de-duplication on, small payload limit, bounded delays.
const dedupBroker = new InMemoryBroker();
const dedupOptions = { broker: dedupBroker, deduplicationWindowMs: 60_000, maxPayloadBytes: 4096, maxDelayMs: 3_600_000, prefetch: 1 };

describeTransportContract({
  name: 'in-memory (dedup window, 4 KiB limit, prefetch 1)',
  version: '0.1.0',
  capabilities: new InMemoryTransport(dedupOptions).capabilities,
  createTransport: () => new InMemoryTransport(dedupOptions),
  readDeadLetters: (destination, group, count, timeoutMs) => dedupBroker.waitForDeadLetters(destination, group, count, timeoutMs),
  publishForeign: (destination, body, headers) => dedupBroker.publishForeign(destination, body, headers),
  runFaultCases: false,
});
