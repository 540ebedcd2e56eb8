import type { TransportProvider } from '@omnibus/core';
import { natsOptionSchema } from './nats-options.js';
import { NatsTransport } from './nats-transport.js';

/**
 * Makes the NATS JetStream transport selectable by name (`transport: { name: 'nats', options }`
 * or `OMNIBUS_TRANSPORT=nats` with `OMNIBUS_NATS_*` variables). `create` validates the options
 * (throwing one `CONFIGURATION_INVALID` error listing every problem) and does not connect.
 */
export const natsTransport: TransportProvider = {
  name: 'nats',
  packageName: '@omnibus/transport-nats',
  optionSchema: natsOptionSchema,
  create: (options) => new NatsTransport(options),
};
