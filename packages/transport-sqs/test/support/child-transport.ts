// Loaded by the contract suite's SIGKILL case in a child process (which inherits the parent's
// environment, hence the same queue prefix): the standard-queue configuration on ElasticMQ.
import type { Transport } from '@omnibus/core';
import { SqsTransport } from '../../src/index.js';
import { testOptions } from './sqs-test-env.js';

/** A fresh, unconnected transport for the child consumer. */
export function createTransport(): Transport {
  return new SqsTransport(testOptions('standard'));
}
