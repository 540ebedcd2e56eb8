import type { DeadLetterStore } from '../dead-letter/dead-letter-store.js';
import type { BacklogReading } from './backlog.js';
import type { TransportCapabilities } from './capabilities.js';
import type { DeliveryHandler } from './delivery.js';
import type { OutgoingMessage } from './outgoing-message.js';
import type { TopologySpec } from './topology.js';
import type { TopologyInspection } from './topology-inspection.js';

/** Lifecycle state of a transport. */
export type TransportStatus = 'idle' | 'connecting' | 'ready' | 'reconnecting' | 'closing' | 'closed';

/** Listener for status changes; `error` is set when a connection was lost. */
export type TransportStatusListener = (status: TransportStatus, error?: Error) => void;

/** What the router asks of a transport when it subscribes one handler. */
export interface SubscriptionSpec {
  /** Destination to consume from (as provisioned). */
  readonly destination: string;
  /** Consumer group: members compete, groups fan out. */
  readonly group: string;
  /** Maximum handlers running at once for this subscription (≥ 1). */
  readonly concurrency: number;
  /** Handle messages with one partition key in publish order, one at a time, retries included. */
  readonly ordered: boolean;
  /** The handler's timeout in ms: adapters extend locks/visibility at least this long. */
  readonly handlerTimeoutMs: number;
}

/** A running subscription. */
export interface Subscription {
  /**
   * Stop intake, wait up to `drainTimeoutMs` for in-flight deliveries to be settled, release
   * received-but-unstarted messages back to the broker, then detach. Idempotent.
   */
  close(drainTimeoutMs: number): Promise<void>;
}

/**
 * The SPI every broker adapter implements. Small on purpose: the core decides *when* to ack,
 * retry or dead-letter; the adapter decides *how* on its broker.
 *
 * Concurrency: all methods may be called concurrently once `connect` resolved.
 */
export interface Transport {
  /** Registry name, e.g. `rabbitmq`. */
  readonly name: string;
  /** What this transport (with its current options) supports. */
  readonly capabilities: TransportCapabilities;
  /** Current lifecycle state. */
  readonly status: TransportStatus;
  /** Subscribe to status changes. Returns a disposer. */
  onStatusChange(listener: TransportStatusListener): () => void;
  /** Open connections. Rejects with a typed error when the broker cannot be reached. Idempotent. */
  connect(): Promise<void>;
  /** Create (or verify, per the adapter's provisioning mode) destinations, groups and dead-letter destinations. Idempotent. */
  provision(topology: TopologySpec): Promise<void>;
  /**
   * Publish to one destination. Resolves only when the broker durably accepted every message;
   * rejects with a typed error otherwise (never a silent drop). Not atomic across the batch
   * unless `capabilities.atomicBatchPublish`.
   */
  publish(destination: string, messages: readonly OutgoingMessage[]): Promise<void>;
  /**
   * Start consuming. `onDelivery` is called at most `spec.concurrency` times at once and, for
   * ordered specs, one at a time per partition key.
   */
  subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription>;
  /** Close every subscription (draining up to `drainTimeoutMs`) and the connections. Idempotent. */
  close(drainTimeoutMs?: number): Promise<void>;
  /** The underlying client, for broker-specific needs. */
  raw(): unknown;
  /**
   * Browse, replay and purge dead letters through the broker's native dead-letter destination.
   * Present exactly when `capabilities.deadLetterStore` is true; use it after `connect()`.
   */
  readonly deadLetters?: DeadLetterStore;
  /**
   * Optional: report which objects of `topology` exist on the broker, creating nothing (for
   * `omnibus topology plan` and `omnibus doctor`). Connects first if needed; rejects with a
   * typed error when the broker cannot be asked.
   */
  inspectTopology?(topology: TopologySpec): Promise<TopologyInspection>;
  /**
   * Optional: delete the destinations and groups of `topology` from the broker, with their
   * messages (used for a bus's per-instance reply destination at stop). Idempotent: missing
   * objects are not an error. Rejects with a typed error when the broker refused.
   */
  deleteTopology?(topology: TopologySpec): Promise<void>;
  /**
   * Read how many messages wait for `group` on `destination` (one broker query per call, on a
   * channel or client of its own: a missing group rejects without disturbing consumers). Present
   * exactly when `capabilities.backlog` is set; use it after `connect()`. Works whether or not the
   * group is being consumed. Rejects with a typed error (`BACKLOG_UNAVAILABLE`) when the broker
   * cannot answer or the group is not provisioned.
   */
  readBacklog?(destination: string, group: string): Promise<BacklogReading>;
}
