import type { TransportProvider } from '@omnibus/core';
import { sqsOptionSchema } from './sqs-options.js';
import { SqsTransport } from './sqs-transport.js';

/**
 * Makes the SQS transport selectable by name: `{ transport: { name: 'sqs', options } }` or
 * `OMNIBUS_TRANSPORT=sqs` with `OMNIBUS_SQS_*` variables. `create` builds an unconnected
 * {@link SqsTransport}; it throws `CONFIGURATION_INVALID` for bad options.
 */
export const sqsTransport: TransportProvider = {
  name: 'sqs',
  packageName: '@omnibus/transport-sqs',
  optionSchema: sqsOptionSchema,
  create: (options) => new SqsTransport(options),
};
