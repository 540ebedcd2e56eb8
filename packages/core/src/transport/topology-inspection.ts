/** One broker object the topology needs, and whether it exists. */
export interface TopologyItem {
  /** `destination`: where messages are published; `group`: a group's queue/subscription; `dead-letter`: its dead-letter destination. */
  readonly kind: 'destination' | 'group' | 'dead-letter';
  readonly destination: string;
  readonly group?: string;
  /** The broker-native name (exchange, queue, topic, subscription). */
  readonly nativeName: string;
  readonly state: 'present' | 'missing';
  /**
   * True when the object is shared with other destinations or groups (NATS's dead-letter stream,
   * one per prefix): deleting this topology never removes it.
   */
  readonly shared?: boolean;
}

/** What {@link Transport.inspectTopology} found. */
export interface TopologyInspection {
  readonly items: readonly TopologyItem[];
}
