// Child-process transport module of the self-test's runner (faults.childTransportModule): the
// in-memory bridge client, wrapped with the mutant named by OMNIBUS_MUTANT, so C8 judges the
// mutant in the killed consumer too.
import type { Transport } from '@omnibus/core';
import { createTransport as bridgeTransport } from '../support/in-memory-child-transport.js';
import { findMutant } from './mutants.js';

/** What `faults.childTransportModule` must export. */
export function createTransport(): Transport {
  return findMutant(process.env['OMNIBUS_MUTANT'] ?? 'none').wrap(bridgeTransport());
}
