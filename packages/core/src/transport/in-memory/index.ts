// Public exports of the in-memory transport (re-exported by the package index).
export { InMemoryTransport } from './in-memory-transport.js';
export { inMemoryTransport } from './in-memory-transport-provider.js';
export { InMemoryBroker } from './in-memory-broker.js';
export type { BrokerMessage, InMemoryGroupStats } from './in-memory-broker.js';
export { inMemoryOptionSchema } from './in-memory-options.js';
export type { InMemoryTransportOptions } from './in-memory-options.js';
export type { InMemoryDeadLetter } from './in-memory-message.js';
export type { InMemoryRawMessage } from './in-memory-delivery.js';
