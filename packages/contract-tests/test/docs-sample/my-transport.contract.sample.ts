// test/contract.int.test.ts of a hypothetical adapter package. The in-memory transport stands
// in for "your" transport so this file compiles and runs; replace the four marked lines.
import { fileURLToPath } from 'node:url';
import { InMemoryBroker, InMemoryTransport } from '@omnibus/core';
import { describeTransportContract } from '@omnibus/contract-tests';

const broker = new InMemoryBroker(); // ← your native client, for out-of-band reads and writes
const createTransport = (): InMemoryTransport => new InMemoryTransport({ broker }); // ← your transport

describeTransportContract({
  name: 'in-memory (sample)',
  version: '0.1.0',
  // Declare what this configuration claims: excluded cases are then listed as pending with the
  // capability in their title, and case X1 checks every instance reports exactly this.
  capabilities: createTransport().capabilities,
  createTransport,
  // Out of band, with the native client (never through the transport under test):
  readDeadLetters: (destination, group, count, timeoutMs) =>
    broker.waitForDeadLetters(destination, group, count, timeoutMs), // ←
  publishForeign: (destination, body, headers) => broker.publishForeign(destination, body, headers), // ←
  faults: {
    restartBroker: () => broker.simulateRestart(50),
    dropConnections: async () => broker.dropConnections(),
    // A module exporting createTransport(), loaded by the child process the suite SIGKILLs.
    childTransportModule: fileURLToPath(new URL('./child-transport.js', import.meta.url)),
  },
  runFaultCases: process.env['CONTRACT_FAULTS'] !== 'off',
  timeScale: Number(process.env['CONTRACT_TIME_SCALE'] ?? '1'),
});
