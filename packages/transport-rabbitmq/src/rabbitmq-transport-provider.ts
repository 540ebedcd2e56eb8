import type { TransportProvider } from '@omnibus/core';
import { rabbitmqOptionSchema } from './rabbitmq-options.js';
import { RabbitMqTransport } from './rabbitmq-transport.js';

/**
 * Makes the RabbitMQ transport selectable by name (`transport: { name: 'rabbitmq', options }`
 * or `OMNIBUS_TRANSPORT=rabbitmq` with `OMNIBUS_RABBITMQ_*` variables). `create` validates the
 * options (throwing one `CONFIGURATION_INVALID` error listing every problem) and does not connect.
 */
export const rabbitmqTransport: TransportProvider = {
  name: 'rabbitmq',
  packageName: '@omnibus/transport-rabbitmq',
  optionSchema: rabbitmqOptionSchema,
  create: (options) => new RabbitMqTransport(options),
};
