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
export type { TopologyItem, TopologyInspection } from './transport/topology-inspection.js';
export type { BacklogKind, BacklogCapability, BacklogReading } from './transport/backlog.js';
export type { Delivery, DeliveryHandler, DeadLetterReason } from './transport/delivery.js';
export type { OutgoingMessage } from './transport/outgoing-message.js';
export type {
  Transport,
  TransportStatus,
  TransportStatusListener,
  SubscriptionSpec,
  Subscription,
} from './transport/transport.js';
export { RoutedTransport, transportFor, mergeCapabilities } from './transport/routed/index.js';
export type { TransportRouting } from './transport/routed/index.js';
export { MigrationTransport, InProcessMigrationClaims } from './transport/migration/index.js';
export type {
  MigrationPhase,
  MigrationTransportOptions,
  MigrationClaims,
  MigrationSide,
} from './transport/migration/index.js';
export { KeyedDispatcher } from './transport/keyed-dispatcher.js';
export type { KeyedDispatcherOptions } from './transport/keyed-dispatcher.js';
export { chooseDelayTier } from './transport/delay-tiers.js';
export { TransportStatusTracker } from './transport/transport-status-tracker.js';
export { SubscriberCheck, noSubscribersError } from './transport/subscriber-check.js';
export type { SubscriberProbe } from './transport/subscriber-check.js';
export { ErrorCodes } from './errors/error-codes.js';
export type { ErrorCode } from './errors/error-codes.js';
export { OmnibusError, isOmnibusError } from './errors/omnibus-error.js';
export type { OmnibusErrorOptions } from './errors/omnibus-error.js';
export type { TransportProvider } from './transport/transport-provider.js';
export { parseOptions, redactOptions, redactUrl } from './config/option-schema.js';
export type { OptionSchema, OptionSpec, ParsedOptions, ParseOptionsResult } from './config/option-schema.js';
// Dead letters (browse, replay, purge)
export { REPLAY_COUNT_HEADER, REPLAYED_AT_HEADER, LOOP_GUARD } from './dead-letter/dead-letter-store.js';
export type {
  DeadLetterStore,
  DeadLetterQuery,
  DeadLetterRecord,
  ReplayOptions,
  ReplayResult,
  PurgeResult,
} from './dead-letter/dead-letter-store.js';
export {
  checkDeadLetterQuery,
  matchesDeadLetterQuery,
  replayCountOf,
  replayWireHeaders,
} from './dead-letter/dead-letter-query.js';
export { cursorDeadLetterStore } from './dead-letter/cursor-dead-letter-store.js';
export type {
  DeadLetterCursor,
  DeadLetterCursorSource,
  ScannedDeadLetter,
} from './dead-letter/cursor-dead-letter-store.js';
// Events
export { defineCommand, defineEvent, defineRequest, destinationOf } from './events/event-definition.js';
export { upcastPayload, UPCAST_FAILED } from './events/upcasting.js';
export { defineFlow } from './flows/forwarding-flow.js';
export type { Flow, ForwardingFlow } from './flows/forwarding-flow.js';
export type { Upcasters } from './events/upcasting.js';
export type {
  EventDefinition,
  DefineEventOptions,
  PayloadOf,
  ReplyOf,
  RequestDefinition,
} from './events/event-definition.js';
export { REPLY_TYPE } from './bus/reply-channel.js';
export type { ReplyBody, RequestStats } from './bus/reply-channel.js';
export type { StandardSchemaV1 } from './events/standard-schema.js';
export { EventRegistry } from './events/event-registry.js';
export { nameProblem, MAX_NAME_LENGTH } from './events/names.js';
export { validatePayload } from './events/validate-payload.js';
export type { PayloadValidationResult } from './events/validate-payload.js';
// Codecs
export type { Codec } from './codec/codec.js';
export { JsonCodec, DEFAULT_JSON_MAX_BYTES } from './codec/json-codec.js';
export type { JsonCodecOptions } from './codec/json-codec.js';
export { CodecRegistry, normalizeContentType } from './codec/codec-registry.js';
// Envelope helpers
export { createEnvelope } from './message/create-envelope.js';
export type { CreateEnvelopeInput } from './message/create-envelope.js';
export { toCloudEventAttributes, fromCloudEventAttributes } from './message/cloud-event-attributes.js';
export type { CloudEventAttributes } from './message/cloud-event-attributes.js';
// Handlers
export { EventHandler } from './handler/event-handler.decorator.js';
export type { EventHandlerMethod, RequestHandlerMethod } from './handler/event-handler.decorator.js';
export { HANDLER_METADATA, readHandlerMetadata } from './handler/handler-metadata.js';
export type { HandlerMetadata, Constructor } from './handler/handler-metadata.js';
export { DEFAULT_HANDLER_TIMEOUT_MS, DEFAULT_HANDLER_CONCURRENCY } from './handler/event-handler-options.js';
export type { EventHandlerOptions, ResolvedHandlerOptions } from './handler/event-handler-options.js';
export { FILTER_FAILED, FILTERED, headersMatch, matchesFilter } from './handler/handler-filter.js';
export type { HandlerFilter } from './handler/handler-filter.js';
export { MAX_BATCH_SIZE } from './handler/batch-handler.js';
export type { BatchContext, BatchEntry, BatchHandlerMethod, BatchOptions } from './handler/batch-handler.js';
export { resolveHandlerOptions } from './handler/resolve-handler-options.js';
export type { HandlerDefaults, ResolveOptionsResult } from './handler/resolve-handler-options.js';
export type { HandlerContext, MiddlewareContext } from './handler/handler-context.js';
export { currentHandlerContext, runInHandlerContext } from './handler/handler-context-storage.js';
export { ConstructorResolver } from './handler/handler-resolver.js';
export type { HandlerResolver } from './handler/handler-resolver.js';
export type { HandlerRegistration } from './handler/handler-registration.js';
// Retry
export {
  DEFAULT_RETRY_POLICY,
  baseRetryDelay,
  computeRetryDelay,
  retryPolicyProblems,
} from './retry/retry-policy.js';
export type { RetryPolicy } from './retry/retry-policy.js';
// Middleware
export { composeMiddleware } from './middleware/handler-middleware.js';
export type { HandlerMiddleware } from './middleware/handler-middleware.js';
export { timeoutMiddleware } from './middleware/timeout-middleware.js';
export { schemaValidationMiddleware } from './middleware/schema-validation-middleware.js';
export { correlationMiddleware } from './middleware/correlation-middleware.js';
// Router
export {
  decideOnFailure,
  RETRIES_EXHAUSTED,
  HANDLER_FAILED,
  RETRY_LATER,
} from './router/settlement-decision.js';
export type { SettlementDecision, FailureFacts } from './router/settlement-decision.js';
export { UNKNOWN_EVENT_TYPE, NO_HANDLER } from './router/delivery-processor.js';
export { buildTopology } from './router/build-topology.js';
// Bus
export { EventBus, DEFAULT_DRAIN_TIMEOUT_MS } from './bus/event-bus.js';
export type { StopOptions } from './bus/event-bus.js';
export { createEventBus } from './bus/create-event-bus.js';
export { prepareBus } from './bus/prepare-bus.js';
export type { PreparedBus } from './bus/prepare-bus.js';
export type { EventBusConfig } from './bus/event-bus-config.js';
export type { BusStatus } from './bus/bus-status.js';
export type { PublishOptions, BatchPublishOptions, RequestOptions } from './bus/publish-options.js';
export { DEFAULT_REQUEST_TIMEOUT_MS } from './bus/publish-options.js';
export { buildOutgoingMessage } from './bus/build-outgoing-message.js';
export type { OutgoingMessageInput } from './bus/build-outgoing-message.js';
export type { StopOnSignalsOptions } from './bus/stop-on-signals.js';
// Hooks (publish middleware, delivery interceptors, plugins)
export { withHeaders, runPublishMiddleware } from './hooks/publish-middleware.js';
export type { PublishContext, PublishMiddleware } from './hooks/publish-middleware.js';
export { runDeliveryInterceptors, emptyDeliveryReport } from './hooks/delivery-interceptor.js';
export type { DeliveryInterceptor, DeliveryReport, SubscriptionInfo } from './hooks/delivery-interceptor.js';
export type { EventBusPlugin, PluginHost } from './hooks/event-bus-plugin.js';
// Health
export { computeHealth } from './health/bus-health.js';
export type {
  BusHealth,
  SubscriptionHealth,
  HealthOptions,
  HealthChangedEvent,
  HealthInputs,
} from './health/bus-health.js';
export { healthRequestHandler } from './health/health-request-handler.js';
export { BacklogSampler } from './health/backlog-sampler.js';
export type { BacklogOptions, BacklogRead, SubscriptionBacklog } from './health/backlog-sampler.js';
export type { HealthSource, HealthRequestHandlerOptions } from './health/health-request-handler.js';
export { SubscriptionStats } from './router/subscription-stats.js';
// Configuration
export { loadConfigFromEnv } from './config/load-config-from-env.js';
export type { EnvironmentConfig } from './config/load-config-from-env.js';
export {
  findTransportProvider,
  isTransportProvider,
  FIRST_PARTY_TRANSPORTS,
} from './config/find-transport-provider.js';
export type { FindProviderResult } from './config/find-transport-provider.js';
export {
  transportPackageName,
  transportExportName,
  transportEnvPrefix,
} from './config/transport-selection.js';
export type { TransportSelection } from './config/transport-selection.js';
// Errors (flow control and configuration)
export { RetryLaterError, isRetryLaterError } from './errors/retry-later-error.js';
export { UnrecoverableError, isUnrecoverableError, UNRECOVERABLE } from './errors/unrecoverable-error.js';
export { ConfigurationError } from './errors/configuration-error.js';
export type { ConfigurationProblem } from './errors/configuration-error.js';
// Instrumentation and logging
export { InstrumentationEmitter } from './instrumentation/instrumentation-emitter.js';
export type {
  InstrumentationEvents,
  InstrumentationEventName,
  InstrumentationListener,
  SettlementOutcome,
  SettlementReason,
  MessagePublishedEvent,
  MessageReceivedEvent,
  MessageSettledEvent,
  HandlerFailedEvent,
  SettlementFailedEvent,
  TransportStatusEvent,
} from './instrumentation/instrumentation-events.js';
export {
  TRACEPARENT_HEADER,
  TRACESTATE_HEADER,
  parseTraceparent,
  formatTraceparent,
  childTraceparent,
} from './instrumentation/traceparent.js';
export type { TraceParent } from './instrumentation/traceparent.js';
export { noopLogger } from './logging/logger.js';
export type { Logger, LogFields } from './logging/logger.js';
export { ConsoleLogger, redactSecrets } from './logging/console-logger.js';
export type { ConsoleLoggerOptions, LogLevel } from './logging/console-logger.js';
export { pinoLogger, isPinoLike, toLogger } from './logging/pino-logger.js';
export type { PinoLike, PinoLogFn } from './logging/pino-logger.js';
// In-memory transport (reference implementation and embedded default)
export {
  InMemoryTransport,
  inMemoryTransport,
  InMemoryBroker,
  inMemoryOptionSchema,
} from './transport/in-memory/index.js';
export type {
  BrokerMessage,
  InMemoryGroupStats,
  InMemoryTransportOptions,
  InMemoryDeadLetter,
  InMemoryRawMessage,
} from './transport/in-memory/index.js';
