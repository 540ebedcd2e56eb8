// Loaded by the contract suite's SIGKILL child process in the live run. The parent's
// environment (connection string, run prefix) is inherited by the forked child.
import type { Transport } from '@omnibus/core';
import { AzureServiceBusTransport } from '../../src/azure-service-bus-transport.js';
import { LIVE_CONNECTION_STRING, liveOptions } from './contract-config.js';

/** The transport the child consumer uses: same options as the live contract run. */
export function createTransport(): Transport {
  if (LIVE_CONNECTION_STRING === undefined) throw new Error('AZURE_SERVICEBUS_CONNECTION_STRING is not set');
  return new AzureServiceBusTransport(liveOptions(LIVE_CONNECTION_STRING));
}
