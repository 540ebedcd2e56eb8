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
  /**
   * The header part of the group's handler filters, for transports that evaluate it on the broker
   * (`capabilities.headerFilters: 'broker'`): the group wants a message when its application
   * headers match at least one entry (every listed header with exactly that value). Absent means
   * every message (some handler of the group on this destination has no header filter). The
   * router evaluates the filters as well, so a transport may ignore this.
   */
  readonly headerFilters?: readonly Readonly<Record<string, string>>[];
}

/**
 * `topology` without the groups' header filters: what a transport that combines others forwards
 * when not all of them push filters down, so that its declared `headerFilters: 'router'` holds
 * on every child. Pure.
 */
export function withoutHeaderFilters(topology: TopologySpec): TopologySpec {
  return {
    destinations: topology.destinations.map((d) => ({
      name: d.name,
      groups: d.groups.map((g) => ({ name: g.name, ordered: g.ordered })),
    })),
  };
}
