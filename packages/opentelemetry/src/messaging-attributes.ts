/**
 * Attribute, span and metric names used by `@omnibus/opentelemetry`: the OpenTelemetry
 * messaging semantic conventions (`messaging.*`, `error.type`, `cloudevents.*`) plus Omnibus's
 * own (`omnibus.*`) where the conventions have no generic name. Spelled out here (no runtime
 * dependency on `@opentelemetry/semantic-conventions`, whose messaging names are incubating).
 */
export const MessagingAttributes = {
  SYSTEM: 'messaging.system',
  OPERATION_NAME: 'messaging.operation.name',
  OPERATION_TYPE: 'messaging.operation.type',
  DESTINATION_NAME: 'messaging.destination.name',
  CONSUMER_GROUP_NAME: 'messaging.consumer.group.name',
  MESSAGE_ID: 'messaging.message.id',
  CONVERSATION_ID: 'messaging.message.conversation_id',
  BODY_SIZE: 'messaging.message.body.size',
  BATCH_MESSAGE_COUNT: 'messaging.batch.message_count',
  KAFKA_MESSAGE_KEY: 'messaging.kafka.message.key',
  ERROR_TYPE: 'error.type',
  CLOUDEVENTS_EVENT_TYPE: 'cloudevents.event_type',
  /** 1-based delivery attempt of the processed message. */
  DELIVERY_ATTEMPT: 'omnibus.delivery.attempt',
  /** Partition key (ordering key) of the message, on every transport. */
  PARTITION_KEY: 'omnibus.message.partition_key',
  /** How the attempt was settled: `acked`, `retried`, `dead-lettered`, `discarded`. */
  SETTLEMENT_OUTCOME: 'omnibus.settlement.outcome',
  /** Redelivery delay of a `retried` settlement, in ms. */
  RETRY_DELAY_MS: 'omnibus.retry.delay_ms',
  /** Reason code of a `retried`, `dead-lettered` or `discarded` settlement. */
  SETTLEMENT_REASON: 'omnibus.settlement.reason',
  /** `Class.method` of the handler. */
  HANDLER: 'omnibus.handler',
  /** Requested delivery delay of a published message, in ms. */
  DELAY_MS: 'omnibus.message.delay_ms',
  /** What a backlog point counts (`unsettled`, `offset-lag`, `ready`, `approximate`, `active`). */
  BACKLOG_KIND: 'omnibus.backlog.kind',
  /** True when the broker's backlog count is an estimate (SQS). */
  BACKLOG_APPROXIMATE: 'omnibus.backlog.approximate',
} as const;

/** Metric instrument names. */
export const MessagingMetrics = {
  /** Counter {message}: messages the broker accepted (and failed sends, with `error.type`). */
  SENT_MESSAGES: 'messaging.client.sent.messages',
  /** Histogram (s): duration of a send operation. */
  OPERATION_DURATION: 'messaging.client.operation.duration',
  /** Counter {message}: deliveries handed to the application. */
  CONSUMED_MESSAGES: 'messaging.client.consumed.messages',
  /** Histogram (s): receipt to settlement of one delivery attempt. */
  PROCESS_DURATION: 'messaging.process.duration',
  /** Counter {message}: attempts settled as `retried`. */
  RETRIES: 'omnibus.messages.retried',
  /** Counter {message}: messages dead-lettered, by `omnibus.settlement.reason`. */
  DEAD_LETTERS: 'omnibus.messages.dead_lettered',
  /** UpDownCounter {handler}: handler attempts running now. */
  IN_FLIGHT: 'omnibus.handlers.in_flight',
  /**
   * Observable gauge {message}: messages waiting for a consumer group, read from the broker only
   * when collected (the conventions define no backlog or lag metric yet).
   */
  BACKLOG: 'omnibus.consumer.backlog',
} as const;

/** `messaging.system` of each first-party transport; other transports keep their own name. */
export const MESSAGING_SYSTEMS: Readonly<Record<string, string>> = Object.freeze({
  kafka: 'kafka',
  rabbitmq: 'rabbitmq',
  sqs: 'aws_sqs',
  azure: 'servicebus',
  'in-memory': 'omnibus_in_memory',
});

/** The `messaging.system` value for a transport name. Pure. */
export function messagingSystem(transport: string): string {
  return MESSAGING_SYSTEMS[transport] ?? transport;
}
