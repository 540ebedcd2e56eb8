import type { BacklogCapability } from './backlog.js';

/**
 * What a transport can do. The router checks handler requirements against it at start, the
 * contract suite gates its cases on it, and the docs render it as the capability matrix.
 * A transport must never declare more than the contract suite proves; the rules are stated in
 * docs/concepts/delivery-contract.md.
 */
export interface TransportCapabilities {
  /** `per-key`: messages with one partition key are handled in publish order, one at a time. */
  readonly ordering: 'none' | 'per-key';
  /** Messages can be published with a delay (delivery contract rule 13); `false` when unsupported. */
  readonly delayedDelivery: false | DelayCapability;
  /** Largest delay a retry can be scheduled with, in ms (delivery contract rule 4). */
  readonly maxRetryDelayMs: number;
  /** Largest encoded payload accepted at publish, in bytes (rule 12). */
  readonly maxPayloadBytes: number;
  /** Consumers in one group compete (rule 6). */
  readonly competingConsumers: boolean;
  /** Each group receives every message (rule 6). */
  readonly fanOut: boolean;
  /** Published, unconsumed messages survive a broker restart. */
  readonly survivesBrokerRestart: boolean;
  /** Without faults, no message is delivered twice to one group. */
  readonly noDuplicatesWithoutFaults: boolean;
  /** The broker drops a second publish with the same message id. */
  readonly publishDeduplication: boolean;
  /** A batch publish is all-or-nothing. */
  readonly atomicBatchPublish: boolean;
  /**
   * The transport exposes `deadLetters` (a `DeadLetterStore`): browse, replay and purge the
   * dead letters of a group. Optional; absent means `false`.
   */
  readonly deadLetterStore?: boolean;
  /**
   * A message is dead-lettered at most once, never after more than `maxAttempts` deliveries,
   * even when a consumer dies mid-settlement: the broker moves the message to its dead-letter
   * destination in the same operation that settles it. Optional; absent means `false`, the
   * at-least-once rule every adapter that writes a dead-letter copy and then settles the original
   * follows (Kafka: copy, then offset commit; SQS: copy, then delete; RabbitMQ and NATS: copy,
   * then ack or term): a consumer killed between the two hands the message to the next consumer,
   * which delivers it once more (attempt `maxAttempts + 1`) and dead-letters it a second time;
   * and a dead-letter write that timed out during an outage but was written all the same is
   * written again when the attempt re-runs (the chaos run, `npm run chaos`, counts these;
   * readers of a dead-letter destination de-duplicate by envelope id). No adapter declares it yet: declaring it needs a fault case
   * that proves it.
   */
  readonly deadLetterOnce?: boolean;
  /**
   * The transport reports how many messages wait for a consumer group
   * (`Transport.readBacklog`), and what its count means. Optional; absent means the broker does
   * not expose it (with these options).
   */
  readonly backlog?: BacklogCapability;
  /**
   * What a publish to a destination no consumer group subscribes to does (ADR 0005):
   * `rejects` — it rejects with `NO_SUBSCRIBERS` and stores nothing, so a resolved publish always
   * means some group holds the message (contract cases U1, U2); `retained` — a destination never
   * lacks a group in this configuration (SQS without SNS: the destination's queue is its one
   * group and keeps the message); `unchecked` — this configuration cannot ask the broker (e.g.
   * Service Bus without management rights) and such a publish may be dropped. Absent means
   * `unchecked`.
   */
  readonly publishWithoutSubscribers?: 'rejects' | 'retained' | 'unchecked';
  /**
   * Where the `headers` part of a handler filter is evaluated. `router` — every message of the
   * group is received and the router acks the ones that do not match with outcome `filtered`
   * (counted like every settlement); `broker` — the broker drops them before delivery (filter
   * push-down: cheaper on the network, but those messages are then neither received nor
   * counted; the router still evaluates every filter after receipt). A `broker` transport reads
   * the filters from `GroupSpec.headerFilters` at provisioning. Either way exactly the same
   * messages reach the handler (contract case W2). Absent means `router`. RabbitMQ and Service
   * Bus push down; docs/concepts/flows.md says why the others do not.
   */
  readonly headerFilters?: 'router' | 'broker';
}

/** Delayed-delivery support. */
export interface DelayCapability {
  /** Largest delay, in ms. Longer delays fail at publish with a typed error. */
  readonly maxDelayMs: number;
  /** True when the broker has no native delay and the adapter emulates it (e.g. TTL queues). */
  readonly emulated: boolean;
}
