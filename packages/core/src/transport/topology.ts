/**
 * What the bus needs to exist on the broker before it publishes or consumes: every destination
 * (one per event type by default) and, for each, the consumer groups bound to it. Adapters map
 * this onto exchanges/queues, topics, SNS topics + SQS queues, or Service Bus topics +
 * subscriptions, including each group's dead-letter destination.
 */
export interface TopologySpec {
  readonly destinations: readonly DestinationSpec[];
}

/** One destination and the groups that consume it. */
export interface DestinationSpec {
  readonly name: string;
  readonly groups: readonly GroupSpec[];
}

/** One consumer group of a destination. */
export interface GroupSpec {
  readonly name: string;
  /** The group's handler needs per-key ordering. */
  readonly ordered: boolean;
}
