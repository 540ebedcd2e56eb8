import { deleteRabbitMqTopology } from './rabbitmq-delete-topology.js';
import type { Channel, ChannelModel } from 'amqplib';
import {
  TransportStatusTracker,
  ErrorCodes,
  SubscriberCheck,
  chooseDelayTier,
  isOmnibusError,
} from '@omnibus/core';
import { checkPublish } from '@omnibus/core/adapter-kit';
import type {
  BacklogReading,
  DeadLetterStore,
  DeliveryHandler,
  TopologyInspection,
  TopologyItem,
  OutgoingMessage,
  Subscription,
  SubscriptionSpec,
  TopologySpec,
  Transport,
  TransportCapabilities,
  TransportStatus,
  TransportStatusListener,
} from '@omnibus/core';
import { readRabbitMqBacklog } from './rabbitmq-backlog.js';
import { RabbitMqConnection } from './rabbitmq-connection.js';
import { rabbitMqDeadLetterStore } from './rabbitmq-dead-letters.js';
import type { ConnectionState } from './rabbitmq-connection.js';
import { closedError, publishError } from './rabbitmq-error-mapper.js';
import { envelopeToAmqp } from './rabbitmq-message-mapper.js';
import { resolveRabbitMqOptions } from './rabbitmq-options.js';
import type { RabbitMqTransportInput, RabbitMqTransportOptions } from './rabbitmq-options.js';
import { RabbitMqPublisher } from './rabbitmq-publisher.js';
import { delayTierPublisher } from './rabbitmq-delay-tiers.js';
import type { RabbitMqPublishPort } from './rabbitmq-delay-tiers.js';
import type { PublishRequest } from './rabbitmq-publisher.js';
import { RabbitMqSubscription } from './rabbitmq-subscription.js';
import { RabbitMqTopology } from './rabbitmq-topology.js';
import type { RabbitMqNames } from './rabbitmq-topology.js';

/** Optional hooks of {@link RabbitMqTransport}. */
export interface RabbitMqTransportHooks {
  /** Errors with no caller to reject (a consumer that failed to resume, a rejected handler). */
  readonly onError?: (error: unknown) => void;
}

const DEFAULT_DRAIN_MS = 10_000;

/**
 * The RabbitMQ (AMQP 0-9-1, amqplib) transport. One connection per transport (reconnected
 * forever once opened), one shared confirm channel for publishing, one channel per
 * subscription. Topology per destination: a fanout exchange; per (destination, group): a
 * durable queue bound to it and a dead-letter queue; shared per prefix: one TTL wait queue per
 * delay tier dead-lettering into a redeliver exchange (see docs/transports/rabbitmq.md).
 *
 * Concurrency: every method may be called concurrently after {@link connect}. `connect`,
 * `provision` and `close` are idempotent. Failures reject with `OmnibusError`s; secrets
 * never appear in messages.
 */
export class RabbitMqTransport implements Transport {
  readonly name = 'rabbitmq';
  readonly capabilities: TransportCapabilities;
  /** The validated options (contains secrets: redact before logging). */
  readonly options: RabbitMqTransportOptions;
  /** Browse, replay and purge dead letters (the groups' `~dead-letter` queues). Connects on first use. */
  readonly deadLetters: DeadLetterStore;
  readonly #hooks: RabbitMqTransportHooks;
  readonly #tracker = new TransportStatusTracker();
  readonly #connection: RabbitMqConnection;
  readonly #topology: RabbitMqTopology;
  readonly #publisher: RabbitMqPublisher;
  /** The publisher behind a declare-on-first-use of delay tiers (see RabbitMqDelayTiers). */
  readonly #tieredPublisher: RabbitMqPublishPort;
  readonly #subscriptions = new Set<RabbitMqSubscription>();
  readonly #destinationChecks = new Map<string, Promise<void>>();
  /** Whether a destination has a group, for delayed publishes (see {@link publish}). */
  readonly #subscribers = new SubscriberCheck('RabbitMQ', (destination) =>
    this.#probeSubscribers(destination),
  );
  #connecting: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  /** Validates `options` (throws `CONFIGURATION_INVALID` listing every problem); does not connect. */
  constructor(
    options: RabbitMqTransportInput | Readonly<Record<string, unknown>> = {},
    hooks: RabbitMqTransportHooks = {},
  ) {
    this.options = resolveRabbitMqOptions(options);
    this.#hooks = hooks;
    this.#topology = new RabbitMqTopology(this.options);
    this.#connection = new RabbitMqConnection(this.options, {
      onConnected: (model) => this.#onConnected(model),
      onState: (state, error) => this.#onConnectionState(state, error),
    });
    this.#publisher = new RabbitMqPublisher(
      (timeoutMs) => this.#connection.createConfirmChannel(timeoutMs),
      this.options.publishWindow,
    );
    this.#topology.delayTiers.bind((tier) =>
      this.#topology.declareDelayTier(() => this.#openChannel(), tier),
    );
    this.#tieredPublisher = delayTierPublisher(this.#publisher, this.#topology.delayTiers);
    this.capabilities = rabbitMqCapabilities(this.options);
    this.deadLetters = rabbitMqDeadLetterStore({
      names: this.names,
      openChannel: async () => {
        if (this.#closing !== undefined) throw closedError('read dead letters');
        await this.connect();
        return this.#openChannel();
      },
      publish: (request) => this.#publisher.publish([request], this.options.publishTimeoutMs),
    });
  }

  /** Naming of this transport's exchanges and queues (e.g. to read a dead-letter queue). */
  get names(): RabbitMqNames {
    return this.#topology.names;
  }

  /** Current lifecycle state (`reconnecting` while the connection is being re-opened). */
  get status(): TransportStatus {
    return this.#tracker.status;
  }

  /** Subscribe to status changes; a listener that throws is ignored. Returns a disposer. */
  onStatusChange(listener: TransportStatusListener): () => void {
    return this.#tracker.onChange(listener);
  }

  /**
   * Open the connection (and, in `create` mode, declare the delay tiers). Idempotent; concurrent
   * calls share one attempt. Rejects with `CONNECTION_FAILED` after `connectTimeoutMs`, or
   * `BUS_CLOSED` after {@link close}.
   */
  connect(): Promise<void> {
    if (this.#closing !== undefined) return Promise.reject(closedError('connect'));
    this.#connecting ??= this.#connection.connect().catch((error: unknown) => {
      this.#connecting = undefined;
      if (this.#closing === undefined) this.#tracker.set('idle', error instanceof Error ? error : undefined);
      throw error;
    });
    return this.#connecting;
  }

  /**
   * Declare (`create`) or check (`verify`) every destination, group queue and dead-letter queue
   * of `topology`, plus the delay tiers. Connects first if needed. Idempotent; remembered and
   * re-declared after reconnects. Rejects with `PROVISIONING_FAILED` naming the failing object.
   */
  async provision(topology: TopologySpec): Promise<void> {
    await this.connect();
    await this.#topology.provision(() => this.#openChannel(), topology);
    for (const destination of topology.destinations)
      if (destination.groups.length > 0) this.#subscribers.markSubscribed(destination.name);
  }

  /**
   * Delete every group queue, dead-letter queue and destination exchange of `topology` (used
   * for a bus's reply destination at stop) and stop re-declaring them. Idempotent.
   */
  async deleteTopology(topology: TopologySpec): Promise<void> {
    await this.connect();
    await deleteRabbitMqTopology(() => this.#openChannel(), this.#topology.names, topology);
    for (const destination of topology.destinations) this.#topology.forget(destination.name);
  }

  /**
   * Which exchanges and queues of `topology` exist, checked passively (`checkExchange` /
   * `checkQueue`, each on its own channel since a miss closes the channel). Creates nothing.
   */
  async inspectTopology(topology: TopologySpec): Promise<TopologyInspection> {
    await this.connect();
    const exists = async (check: (channel: Channel) => Promise<unknown>): Promise<'present' | 'missing'> => {
      const channel = await this.#openChannel();
      try {
        await check(channel);
        return 'present';
      } catch {
        return 'missing';
      } finally {
        await channel.close().catch(() => undefined);
      }
    };
    const items: TopologyItem[] = [];
    for (const { name: destination, groups } of topology.destinations) {
      const exchange = this.names.destinationExchange(destination);
      items.push({
        kind: 'destination',
        destination,
        nativeName: exchange,
        state: await exists((c) => c.checkExchange(exchange)),
      });
      for (const { name: group } of groups) {
        const queue = this.names.groupQueue(destination, group);
        const deadLetter = this.names.deadLetterQueue(destination, group);
        items.push({
          kind: 'group',
          destination,
          group,
          nativeName: queue,
          state: await exists((c) => c.checkQueue(queue)),
        });
        items.push({
          kind: 'dead-letter',
          destination,
          group,
          nativeName: deadLetter,
          state: await exists((c) => c.checkQueue(deadLetter)),
        });
      }
    }
    return { items };
  }

  /** Ready messages in the group's queue (see `readRabbitMqBacklog`). */
  async readBacklog(destination: string, group: string): Promise<BacklogReading> {
    await this.connect();
    const queue = this.names.groupQueue(destination, group);
    return readRabbitMqBacklog(() => this.#openChannel(), queue, destination, group);
  }

  /**
   * Publish persistent, mandatory messages and resolve once the broker confirmed all of them.
   * Rejects with `PAYLOAD_TOO_LARGE` / `DELAY_OUT_OF_RANGE` before sending anything, with
   * `NO_SUBSCRIBERS` when no group's queue is bound (the broker returned the mandatory message),
   * `PUBLISH_FAILED` for an unprovisioned destination, a nacked
   * message, or no confirm within `publishTimeoutMs` (messages may then be stored or not; a
   * re-send after a connection loss may store one twice). Not atomic across the batch.
   *
   * A delayed message is confirmed by its delay tier's wait queue, which routes whatever the
   * destination has, so `mandatory` cannot tell: before the first delayed publish to a destination
   * not yet known to have a group, one `mandatory` probe to the subscribers exchange asks the
   * broker (ADR 0005), and `NO_SUBSCRIBERS` rejects the whole call before anything is sent. A
   * positive answer is remembered (as is any undelayed publish that was routed, or a group this
   * transport provisioned); a negative one is asked again next time.
   */
  async publish(destination: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.#closing !== undefined) throw closedError('publish');
    let delayed = false;
    let immediate = false;
    const requests = messages.map((message) => {
      if ((message.delayMs ?? 0) > 0) delayed = true;
      else immediate = true;
      return this.#request(destination, message);
    });
    if (requests.length === 0) return;
    await this.connect();
    await this.#ensureDestination(destination);
    if (delayed) await this.#subscribers.require(destination);
    await this.#tieredPublisher.publish(requests, this.options.publishTimeoutMs);
    // Routed (not returned) to the destination exchange: some group's queue is bound.
    if (immediate) this.#subscribers.markSubscribed(destination);
  }

  /**
   * Start consuming one group of a provisioned destination (its queues are declared in
   * `create` mode). Rejects with `SUBSCRIBE_FAILED` when the destination does not exist or the
   * queue conflicts (e.g. ordered vs unordered). The subscription survives reconnects.
   */
  async subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription> {
    if (this.#closing !== undefined) throw closedError('subscribe');
    await this.connect();
    const group = { name: spec.group, ordered: spec.ordered };
    const subscription: RabbitMqSubscription = new RabbitMqSubscription({
      spec,
      onDelivery,
      options: this.options,
      names: this.names,
      connection: this.#connection,
      publisher: this.#tieredPublisher,
      prepare: async () => {
        await this.#topology.provisionGroup(() => this.#openChannel(), spec.destination, group);
        this.#subscribers.markSubscribed(spec.destination);
      },
      onError: (error) => this.#hooks.onError?.(error),
      onClosed: () => this.#subscriptions.delete(subscription),
    });
    this.#subscriptions.add(subscription);
    try {
      await subscription.start();
    } catch (error) {
      await subscription.close(0);
      throw error;
    }
    return subscription;
  }

  /**
   * Close every subscription (draining up to `drainTimeoutMs`, default 10 s), then the publisher
   * channel and the connection. Idempotent; never rejects. Later calls reject with `BUS_CLOSED`.
   */
  close(drainTimeoutMs: number = DEFAULT_DRAIN_MS): Promise<void> {
    this.#closing ??= this.#close(drainTimeoutMs);
    return this.#closing;
  }

  /** The current amqplib `ChannelModel` (undefined while disconnected). */
  raw(): ChannelModel | undefined {
    return this.#connection.current;
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    this.#tracker.set('closing');
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close(drainTimeoutMs)));
    await this.#publisher.close();
    await this.#connection.close();
    this.#tracker.set('closed');
  }

  #request(destination: string, message: OutgoingMessage): PublishRequest {
    const delayMs = checkPublish(this, destination, message);
    const exchange = this.names.destinationExchange(destination);
    const parts = envelopeToAmqp(message.envelope);
    if (delayMs === 0) return { ...parts, exchange, routingKey: '', destination };
    const tier = chooseDelayTier(delayMs, this.options.delayTiersMs) as number; // within the largest tier: checked above
    return { ...parts, exchange: this.names.delayExchange(tier), routingKey: exchange, destination };
  }

  /**
   * Make sure the destination exchange exists before publishing (a publish to a missing
   * exchange kills the channel); an unprovisioned destination rejects. Single-flight per
   * destination, so concurrent publishes keep their call order.
   */
  #ensureDestination(destination: string): Promise<void> {
    if (this.#topology.knows(destination)) return Promise.resolve();
    let pending = this.#destinationChecks.get(destination);
    if (pending === undefined) {
      pending = this.#topology
        .checkDestination(() => this.#openChannel(), destination)
        .catch((error: unknown) => {
          throw publishError(error, destination);
        })
        .finally(() => this.#destinationChecks.delete(destination));
      this.#destinationChecks.set(destination, pending);
    }
    return pending;
  }

  /**
   * Ask the broker whether `destination` has a group: a `mandatory`, empty publish to the
   * subscribers exchange, routed only by a group's marker binding (see
   * `RabbitMqNames.subscribersExchange`) into a queue that keeps nothing. One confirm round trip.
   */
  async #probeSubscribers(destination: string): Promise<boolean> {
    const probe: PublishRequest = {
      exchange: this.names.subscribersExchange(),
      routingKey: this.names.destinationExchange(destination),
      destination,
      content: Buffer.alloc(0),
      options: {},
    };
    try {
      await this.#publisher.publish([probe], this.options.publishTimeoutMs);
      return true;
    } catch (error) {
      if (isOmnibusError(error) && error.code === ErrorCodes.NO_SUBSCRIBERS) return false;
      throw error;
    }
  }

  #openChannel(timeoutMs = this.options.publishTimeoutMs): Promise<Channel> {
    return this.#connection.createChannel(timeoutMs);
  }

  async #onConnected(model: ChannelModel): Promise<void> {
    const open = async (): Promise<Channel> => {
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      return channel;
    };
    await this.#topology.redeclare(open);
  }

  #onConnectionState(state: ConnectionState, error?: Error): void {
    if (this.#closing !== undefined) return;
    this.#tracker.set(state, error);
  }
}

/** Capabilities for a set of options: what the contract suite proves for this adapter. */
export function rabbitMqCapabilities(options: RabbitMqTransportOptions): TransportCapabilities {
  const maxDelayMs = options.delayTiersMs[options.delayTiersMs.length - 1] ?? 0;
  return {
    ordering: 'per-key',
    delayedDelivery: { maxDelayMs, emulated: true },
    maxRetryDelayMs: maxDelayMs,
    maxPayloadBytes: options.maxPayloadBytes,
    competingConsumers: true,
    fanOut: true,
    survivesBrokerRestart: true,
    noDuplicatesWithoutFaults: true,
    publishDeduplication: false,
    deadLetterStore: true,
    atomicBatchPublish: false,
    backlog: { kind: 'ready', approximate: false },
    publishWithoutSubscribers: 'rejects',
    // Pushed down through a per-group headers exchange; verify mode creates nothing, so there the
    // router alone filters.
    headerFilters: options.provisioning === 'create' ? 'broker' : 'router',
  };
}
