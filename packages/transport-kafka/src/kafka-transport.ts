import {
  ErrorCodes,
  OmnibusError,
  isOmnibusError,
  TransportStatusTracker,
  chooseDelayTier,
  envelopeToWireHeaders,
  SubscriberCheck,
} from '@omnibus/core';
import type {
  BacklogReading,
  DeadLetterStore,
  DeliveryHandler,
  OutgoingMessage,
  Subscription,
  SubscriptionSpec,
  TopologyInspection,
  TopologyItem,
  TopologySpec,
  Transport,
  TransportCapabilities,
  TransportStatus,
  TransportStatusListener,
} from '@omnibus/core';
import { checkPublish, closedTransportError, publishDeadline, resendUntil } from '@omnibus/core/adapter-kit';
import type { KafkaClientPort, OutgoingRecord } from './kafka-client-port.js';
import { kafkaDeadLetterStore } from './kafka-dead-letters.js';
import { mapKafkaError } from './kafka-error-mapper.js';
import { deleteKafkaTopology } from './kafka-delete-topology.js';
import { delayedHeaders } from './kafka-headers.js';
import { readKafkaBacklog } from './kafka-backlog.js';
import { KafkaNaming } from './kafka-naming.js';
import { parseKafkaOptions } from './kafka-options.js';
import type { KafkaTransportOptions } from './kafka-options.js';
import { KafkaSubscription } from './kafka-subscription.js';
import { KafkajsClient } from './kafkajs-client.js';
import { PublishBatcher, recordBytes } from './publish-batcher.js';
import { TopicProvisioner } from './topic-provisioner.js';

/** Default bound for draining handlers on close. */
const DEFAULT_DRAIN_MS = 10_000;
/** Bound of one {@link KafkaTransport.deleteTopology} call (group deletion, topic deletion, metadata). */
const DELETE_TOPOLOGY_TIMEOUT_MS = 30_000;

/** Optional collaborators of {@link KafkaTransport} (tests, alternative clients). */
export interface KafkaTransportDeps {
  /** Use this client instead of kafkajs. */
  readonly client?: KafkaClientPort;
}

/** The capabilities a Kafka transport with these options declares (see docs/transports/kafka.md). */
export function kafkaCapabilities(options: KafkaTransportOptions): TransportCapabilities {
  const delays = options.delayTiersMs;
  return {
    ordering: 'per-key',
    delayedDelivery:
      delays.length === 0 ? false : { maxDelayMs: delays[delays.length - 1] as number, emulated: true },
    maxRetryDelayMs: options.retryTiersMs[options.retryTiersMs.length - 1] as number,
    maxPayloadBytes: options.maxMessageBytes,
    competingConsumers: true,
    fanOut: true,
    survivesBrokerRestart: true,
    // A member joining or leaving while handlers run hands their partitions, in-flight records
    // included, to another member: those records can be handled twice without any fault.
    noDuplicatesWithoutFaults: false,
    publishDeduplication: false,
    atomicBatchPublish: false,
    backlog: { kind: 'offset-lag', approximate: false },
    deadLetterStore: true,
    publishWithoutSubscribers: 'rejects',
  };
}

/**
 * Omnibus transport over Apache Kafka (kafkajs behind `KafkaClientPort`).
 *
 * - Destinations are topics (`topicPrefix + destination`), created or verified on provision,
 *   subscribe and first publish. Each (destination, group) is one consumer group.
 * - `publish` resolves once every record was acknowledged by all in-sync replicas (idempotent
 *   producer, acks = all); concurrent publishes are coalesced into few requests. The partition
 *   key is the record key. Delayed messages go to the destination's delay topics.
 * - Subscriptions commit offsets only after settlement, in order per partition; see
 *   {@link KafkaSubscription}.
 *
 * Concurrency: every method may be called concurrently once `connect` resolved. `connect` and
 * `close` are idempotent. Errors are {@link OmnibusError}s mapped in `kafka-error-mapper.ts`.
 */
export class KafkaTransport implements Transport {
  readonly name = 'kafka';
  readonly capabilities: TransportCapabilities;
  readonly #options: KafkaTransportOptions;
  readonly #client: KafkaClientPort;
  readonly #naming: KafkaNaming;
  readonly #provisioner: TopicProvisioner;
  readonly #batcher: PublishBatcher;
  readonly #subscribers: SubscriberCheck;
  /**
   * Browse, replay and purge dead letters (`<topic>.<group>.dlq`): removal appends a marker, a
   * replay goes to the group's first retry topic; see docs/transports/kafka.md.
   */
  readonly deadLetters: DeadLetterStore;
  readonly #tracker = new TransportStatusTracker();
  readonly #subscriptions = new Set<KafkaSubscription>();
  readonly #unhealthy = new Set<KafkaSubscription>();
  #connecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /** Validates `options` (throws `CONFIGURATION_INVALID` listing every problem). */
  constructor(options: Readonly<Record<string, unknown>> = {}, deps: KafkaTransportDeps = {}) {
    this.#options = parseKafkaOptions(options);
    const o = this.#options;
    this.capabilities = kafkaCapabilities(o);
    this.#client = deps.client ?? new KafkajsClient(o);
    this.#naming = new KafkaNaming({
      topicPrefix: o.topicPrefix,
      groupIdPrefix: o.groupIdPrefix ?? o.topicPrefix,
    });
    this.#provisioner = new TopicProvisioner(this.#client, {
      mode: o.provisioning === 'verify' ? 'verify' : 'create',
      partitions: o.partitions,
      replicationFactor: o.replicationFactor,
    });
    this.#batcher = new PublishBatcher((batches) => this.#client.send(batches), o.maxMessageBytes);
    this.#subscribers = new SubscriberCheck('Kafka', (destination) => this.#hasGroup(destination));
    this.deadLetters = kafkaDeadLetterStore({
      client: this.#client,
      naming: this.#naming,
      retryTiersMs: o.retryTiersMs,
      tuning: {
        sessionTimeoutMs: o.sessionTimeoutMs,
        rebalanceTimeoutMs: o.rebalanceTimeoutMs,
        heartbeatIntervalMs: o.heartbeatIntervalMs,
        maxWaitTimeMs: o.fetchMaxWaitMs,
      },
      scanTimeoutMs: Math.max(30_000, o.sessionTimeoutMs * 3),
      connect: () => this.connect(),
      requireTopics: (names, what) => this.#provisioner.require(names, ErrorCodes.DEAD_LETTER_FAILED, what),
      publish: (topic, records) => this.#batcher.publish(topic, records),
    });
  }

  get status(): TransportStatus {
    return this.#tracker.status;
  }

  onStatusChange(listener: TransportStatusListener): () => void {
    return this.#tracker.onChange(listener);
  }

  connect(): Promise<void> {
    if (this.#closing !== undefined) {
      return Promise.reject(closedTransportError('Kafka', 'connect'));
    }
    this.#connecting ??= this.#connect();
    return this.#connecting;
  }

  async provision(topology: TopologySpec): Promise<void> {
    await this.connect();
    const topics: string[] = [];
    for (const destination of topology.destinations) {
      topics.push(...this.#destinationTopics(destination.name));
      for (const group of destination.groups) {
        topics.push(...this.#groupTopics(destination.name, group.name, group.ordered));
      }
    }
    await this.#provisioner.ensure(topics);
    for (const destination of topology.destinations)
      if (destination.groups.length > 0) this.#subscribers.markSubscribed(destination.name);
  }

  async publish(destination: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.connect();
    const byTopic = new Map<string, OutgoingRecord[]>();
    for (const message of messages) {
      const { topic, record } = this.#toRecord(destination, message);
      const list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, [record]);
      else list.push(record);
    }
    const main = this.#naming.mainTopic(destination);
    // During an outage: wait and re-send until publishTimeoutMs, then a retriable PUBLISH_FAILED
    // (core's resendUntil; the same behaviour on every transport, contract case R1).
    await resendUntil(
      publishDeadline(this.#options.publishTimeoutMs),
      {
        transport: 'Kafka',
        destination,
        isTransient: (error) => mapKafkaError(error, 'publish', main).retriable,
      },
      async () => {
        await this.#provisioner.require(
          [main],
          ErrorCodes.PUBLISH_FAILED,
          `Cannot publish to "${destination}"`,
        );
        const subscribed = this.#subscribers.require(destination);
        if (subscribed !== undefined) await subscribed;
        await this.#provisioner.ensure([...byTopic.keys()].filter((topic) => topic !== main));
        try {
          await Promise.all([...byTopic].map(([topic, records]) => this.#batcher.publish(topic, records)));
        } catch (error) {
          const mapped = mapKafkaError(error, 'publish', main);
          if (mapped.retriable) this.#tracker.set('reconnecting', mapped);
          throw mapped;
        }
      },
    );
    if (this.#tracker.status === 'reconnecting' && this.#unhealthy.size === 0) this.#tracker.set('ready');
  }

  /**
   * Which topics of `topology` exist, creating nothing: per destination its main and delay
   * topics, per group its retry topics (unordered groups) and its dead-letter topic. Connects
   * first; rejects with a typed error when the cluster cannot be asked.
   */
  async inspectTopology(topology: TopologySpec): Promise<TopologyInspection> {
    await this.connect();
    const wanted = new Set<string>();
    for (const d of topology.destinations) {
      for (const t of this.#destinationTopics(d.name)) wanted.add(t);
      for (const g of d.groups) for (const t of this.#groupTopics(d.name, g.name, g.ordered)) wanted.add(t);
    }
    let existing: Set<string>;
    try {
      existing = new Set((await this.#client.describeTopics([...wanted])).map((t) => t.name));
    } catch (error) {
      throw mapKafkaError(error, 'provision', [...wanted].join(', '));
    }
    const state = (names: readonly string[]): 'present' | 'missing' =>
      names.every((n) => existing.has(n)) ? 'present' : 'missing';
    const items: TopologyItem[] = [];
    for (const d of topology.destinations) {
      const topics = this.#destinationTopics(d.name);
      items.push({
        kind: 'destination',
        destination: d.name,
        nativeName: topics.join(', '),
        state: state(topics),
      });
      for (const g of d.groups) {
        const retry = this.#retryTopics(d.name, g.name, g.ordered);
        const groupId = this.#naming.groupId(d.name, g.name);
        const dlq = this.#naming.deadLetterTopic(d.name, g.name);
        items.push({
          kind: 'group',
          destination: d.name,
          group: g.name,
          nativeName:
            retry.length === 0
              ? `consumer group ${groupId}`
              : `consumer group ${groupId}; ${retry.join(', ')}`,
          // An ordered group has no topic of its own besides its dead-letter topic.
          state: state(retry.length === 0 ? [dlq] : retry),
        });
        items.push({
          kind: 'dead-letter',
          destination: d.name,
          group: g.name,
          nativeName: dlq,
          state: state([dlq]),
        });
      }
    }
    return { items };
  }

  /**
   * Delete the consumer groups of `topology` (their committed offsets) and then every topic
   * {@link provision} creates for it, with their records: used for a bus's per-instance reply
   * destination at stop. Missing groups and topics are skipped; resolves once the cluster no
   * longer lists the topics. Bounded (30 s): rejects with a retriable `PROVISIONING_FAILED`
   * naming what is left, or with the mapped broker error (e.g. topic deletion disabled). With
   * `provisioning: 'verify'` topics are managed elsewhere and nothing is deleted.
   */
  async deleteTopology(topology: TopologySpec): Promise<void> {
    if (this.#closing !== undefined) throw closedTransportError('Kafka', 'deleteTopology');
    if (this.#options.provisioning === 'verify') return;
    await this.connect();
    const topics: string[] = [];
    const groupIds: string[] = [];
    for (const d of topology.destinations) {
      topics.push(...this.#destinationTopics(d.name));
      for (const g of d.groups) {
        groupIds.push(this.#naming.groupId(d.name, g.name));
        topics.push(...this.#groupTopics(d.name, g.name, g.ordered));
      }
    }
    try {
      await deleteKafkaTopology(this.#client, { groupIds, topics, timeoutMs: DELETE_TOPOLOGY_TIMEOUT_MS });
    } finally {
      this.#provisioner.forget(topics);
      for (const d of topology.destinations) this.#subscribers.forget(d.name);
    }
  }

  /** Whether some group's dead-letter topic exists for `destination` (one metadata request). */
  async #hasGroup(destination: string): Promise<boolean> {
    let topics: string[];
    try {
      topics = await this.#client.listTopics();
    } catch (error) {
      throw mapKafkaError(error, 'publish', this.#naming.mainTopic(destination));
    }
    return topics.some((topic) => this.#naming.isGroupTopicOf(topic, destination));
  }

  async subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription> {
    await this.connect();
    const { destination, group, ordered } = spec;
    const main = this.#naming.mainTopic(destination);
    const consumed = [
      main,
      ...this.#delayTopics(destination),
      ...this.#retryTopics(destination, group, ordered),
    ];
    await this.#provisioner.require(
      [main],
      ErrorCodes.SUBSCRIBE_FAILED,
      `Cannot subscribe to "${destination}"`,
    );
    await this.#provisioner.ensure([
      ...consumed.filter((topic) => topic !== main),
      this.#naming.deadLetterTopic(destination, group),
    ]);
    const subscription: KafkaSubscription = new KafkaSubscription({
      client: this.#client,
      naming: this.#naming,
      spec,
      onDelivery,
      topics: consumed,
      retryTiersMs: this.#options.retryTiersMs,
      maxRetryDelayMs: this.capabilities.maxRetryDelayMs,
      trackAttempts: this.#options.trackAttempts,
      tuning: {
        fromBeginning: this.#options.startFrom !== 'latest',
        sessionTimeoutMs: this.#options.sessionTimeoutMs,
        rebalanceTimeoutMs: this.#options.rebalanceTimeoutMs,
        heartbeatIntervalMs: this.#options.heartbeatIntervalMs,
        maxWaitTimeMs: this.#options.fetchMaxWaitMs,
      },
      publish: (topic, records) => this.#batcher.publish(topic, records),
      onHealth: (healthy, error) => this.#onHealth(subscription, healthy, error),
      // The router settles every delivery itself; a rejected handler promise leaves the record
      // unsettled, so it is redelivered after a restart or rebalance. Nothing else to do here.
      onError: () => undefined,
    });
    this.#subscriptions.add(subscription);
    try {
      await subscription.start();
    } catch (error) {
      this.#subscriptions.delete(subscription);
      this.#unhealthy.delete(subscription);
      throw error;
    }
    const tracked: Subscription = {
      close: async (drainTimeoutMs: number) => {
        await subscription.close(drainTimeoutMs);
        this.#subscriptions.delete(subscription);
        this.#unhealthy.delete(subscription);
      },
    };
    return tracked;
  }

  close(drainTimeoutMs: number = DEFAULT_DRAIN_MS): Promise<void> {
    this.#closing ??= this.#close(drainTimeoutMs);
    return this.#closing;
  }

  /** The group's offset lag on the destination's main topic (see `readKafkaBacklog`). */
  async readBacklog(destination: string, group: string): Promise<BacklogReading> {
    await this.connect();
    const fromBeginning = this.#options.startFrom !== 'latest';
    return readKafkaBacklog(this.#client, this.#naming, destination, group, fromBeginning);
  }

  /** `{ kafka, admin, producer }` from kafkajs (or whatever the injected client returns). */
  raw(): unknown {
    return this.#client.raw();
  }

  async #connect(): Promise<void> {
    this.#tracker.set('connecting');
    const limit = this.#options.connectTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new OmnibusError(
              ErrorCodes.CONNECTION_FAILED,
              `Kafka: no broker of ${this.#options.brokers.join(',')} answered within connectTimeoutMs (${String(limit)} ms); is the cluster up and are the brokers (OMNIBUS_KAFKA_BROKERS) right?`,
              { retriable: true },
            ),
          ),
        limit,
      );
    });
    try {
      await Promise.race([this.#client.connect(), timeout]);
    } catch (error) {
      this.#connecting = undefined;
      this.#tracker.set('idle');
      // Stop kafkajs' own connect retries so nothing keeps running after the rejection.
      await this.#client.disconnect().catch(() => undefined);
      throw isOmnibusError(error) ? error : mapKafkaError(error, 'connect', this.#options.brokers.join(','));
    } finally {
      clearTimeout(timer);
    }
    this.#tracker.set('ready');
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    if (this.#tracker.status === 'closed') return;
    this.#tracker.set('closing');
    await Promise.allSettled([...this.#subscriptions].map((s) => s.close(drainTimeoutMs)));
    this.#subscriptions.clear();
    await this.#client.disconnect().catch(() => undefined);
    this.#tracker.set('closed');
  }

  #toRecord(destination: string, message: OutgoingMessage): { topic: string; record: OutgoingRecord } {
    const { envelope } = message;
    // Size (maxMessageBytes) and delay (0…largest delay tier; none when delayTiersMs is empty).
    const delayMs = checkPublish(this, destination, message);
    const wire = envelopeToWireHeaders(envelope);
    const key = envelope.partitionKey === undefined ? {} : { key: envelope.partitionKey };
    if (delayMs === 0)
      return {
        topic: this.#naming.mainTopic(destination),
        record: { ...key, value: envelope.payload, headers: wire },
      };
    // Within maxDelayMs = the largest tier, so a tier is always found.
    const tier = chooseDelayTier(delayMs, this.#options.delayTiersMs) as number;
    const record = { ...key, value: envelope.payload, headers: delayedHeaders(wire, Date.now() + delayMs) };
    if (recordBytes(record) > this.#options.maxMessageBytes + 64 * 1024) {
      throw new OmnibusError(
        ErrorCodes.PAYLOAD_TOO_LARGE,
        'Message headers make the record too large for Kafka',
      );
    }
    return { topic: this.#naming.delayTopic(destination, tier), record };
  }

  #destinationTopics(destination: string): string[] {
    return [this.#naming.mainTopic(destination), ...this.#delayTopics(destination)];
  }

  #delayTopics(destination: string): string[] {
    return this.#options.delayTiersMs.map((tier) => this.#naming.delayTopic(destination, tier));
  }

  #retryTopics(destination: string, group: string, ordered: boolean): string[] {
    return ordered
      ? []
      : this.#options.retryTiersMs.map((tier) => this.#naming.retryTopic(destination, group, tier));
  }

  #groupTopics(destination: string, group: string, ordered: boolean): string[] {
    return [
      ...this.#retryTopics(destination, group, ordered),
      this.#naming.deadLetterTopic(destination, group),
    ];
  }

  #onHealth(subscription: KafkaSubscription, healthy: boolean, error?: Error): void {
    if (this.#tracker.status === 'closing' || this.#tracker.status === 'closed') return;
    if (healthy) this.#unhealthy.delete(subscription);
    else this.#unhealthy.add(subscription);
    if (!healthy) this.#tracker.set('reconnecting', error);
    else if (this.#unhealthy.size === 0 && this.#tracker.status === 'reconnecting')
      this.#tracker.set('ready');
  }
}
