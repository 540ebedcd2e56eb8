// Loaded by the contract suite's SIGKILL child process (faults.childTransportModule): the same
// transport configuration as the parent, with the topic prefix passed through the environment.
import type { Transport } from '@omnibus/core';
import { CONTRACT_PREFIX_ENV } from './kafka-test-support.js';
import { testTransport } from './kafka-test-support.js';

/** A fresh transport for the child consumer, on the parent's topics. */
export function createTransport(): Transport {
  const prefix = process.env[CONTRACT_PREFIX_ENV];
  if (prefix === undefined)
    throw new Error(`${CONTRACT_PREFIX_ENV} is not set (the contract test sets it before forking)`);
  return testTransport(prefix);
}
