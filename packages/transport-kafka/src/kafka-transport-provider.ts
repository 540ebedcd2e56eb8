import type { TransportProvider } from '@omnibus/core';
import { kafkaOptionSchema } from './kafka-options.js';
import { KafkaTransport } from './kafka-transport.js';

/**
 * Makes the Kafka transport selectable by name (`OMNIBUS_TRANSPORT=kafka`). `create` validates
 * the options again (cheap, idempotent) and returns an unconnected {@link KafkaTransport}.
 */
export const kafkaTransport: TransportProvider = {
  name: 'kafka',
  packageName: '@omnibus/transport-kafka',
  optionSchema: kafkaOptionSchema,
  create: (options) => new KafkaTransport(options),
};
