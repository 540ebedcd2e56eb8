import {
  InMemoryBroker,
  InMemoryTransport,
  InProcessMigrationClaims,
  MigrationTransport,
  type MigrationPhase,
} from '@omnibus/core';
import { collectDeadLetters, describeTransportContract } from '../src/index.js';

// The migration transport over two in-memory brokers, in each phase: it is a transport like any
// other and passes the contract (docs/guides/migrating-brokers.md). Fault cases run once per
// transport (in-memory.contract.test.ts), so they are off here.
for (const phase of ['dual-write', 'drain', 'cut-over'] as const satisfies readonly MigrationPhase[]) {
  const from = new InMemoryBroker();
  const to = new InMemoryBroker();
  const claims = new InProcessMigrationClaims();
  const create = (): MigrationTransport =>
    new MigrationTransport({
      from: new InMemoryTransport({ broker: from }),
      to: new InMemoryTransport({ broker: to }),
      phase,
      claims,
    });
  describeTransportContract({
    name: `migration (in-memory → in-memory, ${phase})`,
    version: '0.1.0',
    capabilities: create().capabilities,
    createTransport: create,
    // Dead letters land on the broker whose copy was handled: read both.
    readDeadLetters: (destination, group, count, timeoutMs) =>
      collectDeadLetters(
        (phase === 'cut-over' ? [to] : [from, to]).map(
          (broker) => () =>
            Promise.resolve(broker.has(destination, group) ? broker.readDeadLetters(destination, group) : []),
        ),
        count,
        timeoutMs,
      ),
    // A producer not yet migrated publishes to the old broker (the new one after cut-over).
    publishForeign: (destination, body, headers) =>
      (phase === 'cut-over' ? to : from).publishForeign(destination, body, headers),
    runFaultCases: false,
  });
}
