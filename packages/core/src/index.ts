// Public API of @omnibus/core. Explicit named exports only.
export type { MessageEnvelope, MessageHeaders } from './message/envelope.js';
export {
  WireHeaders,
  CLOUD_EVENTS_SOURCE,
  isReservedHeader,
  envelopeToWireHeaders,
  envelopeFromWire,
  deadLetterWireHeaders,
  readDeadLetterInfo,
} from './message/wire-headers.js';
export type { WireMessage, DeadLetterInfo } from './message/wire-headers.js';
export type { TransportCapabilities, DelayCapability } from './transport/capabilities.js';
export type { TopologySpec, DestinationSpec, GroupSpec } from './transport/topology.js';
export type { Delivery, DeliveryHandler, DeadLetterReason } from './transport/delivery.js';
export type { OutgoingMessage } from './transport/outgoing-message.js';
export type {
  Transport,
  TransportStatus,
  TransportStatusListener,
  SubscriptionSpec,
  Subscription,
} from './transport/transport.js';
export { KeyedDispatcher } from './transport/keyed-dispatcher.js';
export type { KeyedDispatcherOptions } from './transport/keyed-dispatcher.js';
export { chooseDelayTier } from './transport/delay-tiers.js';
export { ErrorCodes } from './errors/error-codes.js';
export type { ErrorCode } from './errors/error-codes.js';
export { OmnibusError, isOmnibusError } from './errors/omnibus-error.js';
export type { OmnibusErrorOptions } from './errors/omnibus-error.js';
export type { TransportProvider } from './transport/transport-provider.js';
export { parseOptions, redactOptions, redactUrl } from './config/option-schema.js';
export type { OptionSchema, OptionSpec, ParsedOptions, ParseOptionsResult } from './config/option-schema.js';
export * from './transport/in-memory/index.js';
