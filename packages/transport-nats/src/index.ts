// Public API of @omnibus/transport-nats. Explicit named exports only.
export { NatsTransport, natsCapabilities } from './nats-transport.js';
export type { NatsTransportHooks } from './nats-transport.js';
export { natsTransport } from './nats-transport-provider.js';
export { natsOptionSchema, resolveNatsOptions, DEFAULT_SERVER } from './nats-options.js';
export type { NatsTransportOptions, NatsTransportInput } from './nats-options.js';
export { NatsNames, encodeNameToken } from './nats-names.js';
