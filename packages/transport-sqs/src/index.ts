// Public API of @omnibus/transport-sqs. Explicit named exports only.
export { SqsTransport } from './sqs-transport.js';
export { sqsTransport } from './sqs-transport-provider.js';
export { sqsOptionSchema, parseSqsOptions } from './sqs-options.js';
export type { SqsTransportOptions, SqsTransportOptionsInput } from './sqs-options.js';
export type { SqsClients } from './sqs-clients.js';
export { SqsNaming } from './sqs-naming.js';
export type { SqsQueueNames } from './sqs-naming.js';
export { sqsCapabilities } from './sqs-capabilities.js';
export { PACKED_HEADERS_ATTRIBUTE, BODY_ENCODING_HEADER } from './sqs-message-codec.js';
