// Public API of @omnibus/transport-rabbitmq. Explicit named exports only.
export { RabbitMqTransport, rabbitMqCapabilities } from './rabbitmq-transport.js';
export type { RabbitMqTransportHooks } from './rabbitmq-transport.js';
export { rabbitmqTransport } from './rabbitmq-transport-provider.js';
export { rabbitmqOptionSchema, resolveRabbitMqOptions, DEFAULT_DELAY_TIERS_MS } from './rabbitmq-options.js';
export type { RabbitMqTransportOptions, RabbitMqTransportInput } from './rabbitmq-options.js';
export { RabbitMqNames } from './rabbitmq-topology.js';
export type { RabbitMqQueueType } from './rabbitmq-topology.js';
