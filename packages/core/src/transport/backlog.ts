/**
 * What a {@link BacklogReading}'s count means on a broker:
 * - `unsettled`: every message of the group not yet settled, waiting or in a handler (in-memory;
 *   NATS: pending plus ack-pending of the group's durables);
 * - `offset-lag`: end offset minus the group's committed offset, summed over partitions (Kafka:
 *   includes records in handlers and acked records whose commit has not landed yet);
 * - `ready`: messages in the group's queue ready to be delivered (RabbitMQ: excludes deliveries
 *   waiting for their ack and messages parked in retry tiers);
 * - `approximate`: the broker's approximate counts of visible, in-flight and delayed messages
 *   (SQS `ApproximateNumberOfMessages*`, eventually consistent);
 * - `active`: the entity's active message count (Service Bus: includes locked messages, excludes
 *   scheduled retries, deferred and dead-lettered ones).
 */
export type BacklogKind = 'unsettled' | 'offset-lag' | 'ready' | 'approximate' | 'active';

/** How a transport reports backlog (`TransportCapabilities.backlog`). */
export interface BacklogCapability {
  /** What the count means (see {@link BacklogKind}). */
  readonly kind: BacklogKind;
  /** True when the broker's count is an estimate that may lag behind (e.g. SQS). */
  readonly approximate: boolean;
}

/** The backlog of one consumer group, as its broker reports it. */
export interface BacklogReading extends BacklogCapability {
  readonly destination: string;
  readonly group: string;
  /** Messages waiting for the group (≥ 0), per {@link BacklogKind}. */
  readonly messages: number;
}
