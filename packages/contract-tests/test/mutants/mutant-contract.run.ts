// Spec file the self-test runs in a child mocha process, once per mutant
// (OMNIBUS_MUTANT=<name>, --grep selecting the mutant's cases). Not matched by *.test.js.
import { fileURLToPath } from 'node:url';
import { InMemoryBroker, InMemoryTransport } from '@omnibus/core';
import { describeTransportContract } from '../../src/index.js';
import { BRIDGE_PORT_ENV, InMemoryBridge } from '../support/in-memory-bridge.js';
import { findMutant } from './mutants.js';

const mutant = findMutant(process.env['OMNIBUS_MUTANT'] ?? 'none');
const broker = new InMemoryBroker();

// C8 runs its consumer in a child process: the bridge serves this process's broker to it, and
// the child wraps its bridge transport with the same mutant (OMNIBUS_MUTANT is inherited).
const bridge = new InMemoryBridge(broker);
process.env[BRIDGE_PORT_ENV] = String(await bridge.listen());
after(() => bridge.close());

describeTransportContract({
  name: `mutant ${mutant.name}`,
  version: '0.0.0-mutant',
  capabilities: new InMemoryTransport({ broker }).capabilities,
  createTransport: () => mutant.wrap(new InMemoryTransport({ broker })),
  readDeadLetters: (destination, group, count, timeoutMs) =>
    broker.waitForDeadLetters(destination, group, count, timeoutMs),
  publishForeign: (destination, body, headers) => broker.publishForeign(destination, body, headers),
  faults: {
    restartBroker: () => broker.simulateRestart(50),
    dropConnections: () => {
      broker.dropConnections();
      return Promise.resolve();
    },
    childTransportModule: fileURLToPath(new URL('./mutant-child-transport.js', import.meta.url)),
  },
  // Keep failing cases short: mutants time out instead of passing.
  timeScale: 0.5,
});
