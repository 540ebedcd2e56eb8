import type { Transport, TransportProvider } from '@omnibus/core';
import { azureOptionSchema } from './azure-options.js';
import { AzureServiceBusTransport } from './azure-service-bus-transport.js';

/**
 * Makes the Azure Service Bus transport selectable by name: `transport: { name: 'azure',
 * options: { connectionString } }` or `OMNIBUS_TRANSPORT=azure` with
 * `OMNIBUS_AZURE_CONNECTION_STRING`. `create` validates the options and returns an unconnected
 * transport.
 */
export const azureTransport: TransportProvider = {
  name: 'azure',
  packageName: '@omnibus/transport-azure',
  optionSchema: azureOptionSchema,
  create(options: Readonly<Record<string, unknown>>): Transport {
    return new AzureServiceBusTransport(options);
  },
};
