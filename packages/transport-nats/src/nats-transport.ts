import { connect as natsConnect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { JetStreamClient, JetStreamManager } from '@nats-io/jetstream';
import { SubscriberCheck, TransportStatusTracker } from '@omnibus/core';
import type {
  BacklogReading,
  DeadLetterStore,
  DeliveryHandler,
  OutgoingMessage,
  Subscription,
  SubscriptionSpec,
  TopologyInspection,
  TopologySpec,
  Transport,
  TransportCapabilities,
  TransportStatus,
  TransportStatusListener,
} from '@omnibus/core';
import { publishDeadline, resendUntil } from '@omnibus/core/adapter-kit';
import { readNatsBacklog } from './nats-backlog.js';
import { natsDeadLetterStore } from './nats-dead-letters.js';
import { NatsDelays } from './nats-delay.js';
import {
  asError,
  closedError,
  connectionError,
  isTransient,
  publishError,
  subscribeError,
} from './nats-error-mapper.js';
import { NatsNames } from './nats-names.js';
import { resolveNatsOptions } from './nats-options.js';
import type { NatsTransportInput, NatsTransportOptions } from './nats-options.js';
import { NatsPublisher } from './nats-publisher.js';
import { NatsSubscription } from './nats-subscription.js';
import { NatsTopology } from './nats-topology.js';
import { deleteNatsTopology, inspectNatsTopology } from './nats-topology-admin.js';

/** Optional hooks of {@link NatsTransport}. */
export interface NatsTransportHooks {
  /** Errors with no caller to reject (a failed pull, a rejected handler, a failed re-provision). */
  readonly onError?: (error: unknown) => void;
}

/** The live client objects of a connected transport. */
interface Connected {
  readonly nc: NatsConnection;
  readonly js: JetStreamClient;
  readonly jsm: JetStreamManager;
}

const DEFAULT_DRAIN_MS = 10_000;
/** Bound of one {@link NatsTransport.deleteTopology} call. */
const DELETE_TOPOLOGY_TIMEOUT_MS = 30_000;

/**
 * The NATS JetStream transport (`@nats-io/transport-node` + `@nats-io/jetstream`). One NATS
 * connection per transport, reconnected forever once opened. Per destination one stream with
 * interest retention; per group durable pull consumers with explicit acks; dead letters in one
 * stream per prefix (see {@link NatsNames} and docs/transports/nats.md).
 *
 * Concurrency: every method may be called concurrently after {@link connect}. `connect`,
 * `provision` and `close` are idempotent. Failures reject with `OmnibusError`s; secrets never
 * appear in messages.
 */
export class NatsTransport implements Transport {
  readonly name = 'nats';
  readonly capabilities: TransportCapabilities;
  /** The validated options (contains secrets: redact before logging). */
  readonly options: NatsTransportOptions;
  /** Naming of this transport's streams, subjects and consumers. */
  readonly names: NatsNames;
  /**
   * Browse, replay and purge dead letters (rule 17). A group's dead letters are its subject of the
   * prefix's dead-letter stream; a replay goes to the destination's stream marked for that group
   * only (the destination's other groups acknowledge it without handling it).
   */
  readonly deadLetters: DeadLetterStore;
  readonly #hooks: NatsTransportHooks;
  readonly #tracker = new TransportStatusTracker();
  readonly #topology: NatsTopology;
  readonly #publisher: NatsPublisher;
  readonly #subscriptions = new Set<NatsSubscription>();
  readonly #subscribers: SubscriberCheck;
  readonly #delays: NatsDelays;
  #connected: Connected | undefined;
  #connecting: Promise<Connected> | undefined;
  #closing: Promise<void> | undefined;
  /** Disconnects seen so far (settlement tells a late ack confirmation from a lost one). */
  #connectionLosses = 0;

  /** Validates `options` (throws `CONFIGURATION_INVALID` listing every problem); does not connect. */
  constructor(
    options: NatsTransportInput | Readonly<Record<string, unknown>> = {},
    hooks: NatsTransportHooks = {},
  ) {
    this.options = resolveNatsOptions(options);
    this.#hooks = hooks;
    this.names = new NatsNames(this.options.prefix, this.options.orderedPartitions);
    this.#topology = new NatsTopology(this.names, this.options);
    this.capabilities = natsCapabilities(this.options);
    this.#publisher = new NatsPublisher(this.names, this.options, this);
    this.#subscribers = new SubscriberCheck('NATS', (destination) => this.#hasConsumers(destination));
    this.#delays = new NatsDelays({
      names: this.names,
      options: this.options,
      forward: async (destination, wire, payload, msgId) => {
        const { js } = await this.#connect();
        const deadline = publishDeadline(this.options.publishTimeoutMs);
        await this.#publisher.publishWire(js, destination, wire, payload, deadline, msgId);
      },
      onError: (error) => this.#hooks.onError?.(error),
    });
    this.deadLetters = natsDeadLetterStore({
      names: this.names,
      manager: () => this.manager(),
      republish: async (destination, headers, payload) => {
        const { js } = await this.#connect();
        const deadline = publishDeadline(this.options.publishTimeoutMs);
        await this.#publisher.publishWire(js, destination, headers, payload, deadline);
      },
    });
  }

  /** Current lifecycle state (`reconnecting` while the client re-establishes the connection). */
  get status(): TransportStatus {
    return this.#tracker.status;
  }

  /** Subscribe to status changes; a listener that throws is ignored. Returns a disposer. */
  onStatusChange(listener: TransportStatusListener): () => void {
    return this.#tracker.onChange(listener);
  }

  /**
   * Connect and check that JetStream answers. Idempotent; concurrent calls share one attempt.
   * Rejects with `CONNECTION_FAILED` within `connectTimeoutMs` when no server (or no JetStream)
   * answers, or `BUS_CLOSED` after {@link close}.
   */
  async connect(): Promise<void> {
    await this.#connect();
  }

  /**
   * Add (`create`) or check (`verify`) the stream of every destination, the durable consumers of
   * every group and the dead-letter stream. Connects first if needed. Idempotent. Rejects with
   * `PROVISIONING_FAILED` naming the failing object.
   */
  async provision(topology: TopologySpec): Promise<void> {
    const { nc, jsm } = await this.#connect();
    await this.#topology.provision(jsm, topology);
    await this.#delays.start(nc, jsm);
    for (const destination of topology.destinations)
      if (destination.groups.length > 0) this.#subscribers.markSubscribed(destination.name);
  }

  /**
   * Which streams and consumers of `topology` exist, creating nothing (see
   * {@link inspectNatsTopology}). Connects first if needed.
   */
  async inspectTopology(topology: TopologySpec): Promise<TopologyInspection> {
    const { jsm } = await this.#connect();
    return inspectNatsTopology(jsm, this.names, topology);
  }

  /**
   * Delete the durable consumers of `topology`'s groups, their dead letters and the streams of
   * its destinations, with their messages: used for a bus's per-instance reply destination at
   * stop. Missing streams and consumers are skipped. Bounded (30 s): rejects with a retriable
   * `PROVISIONING_FAILED` naming what is left, or with the mapped server error (see
   * {@link deleteNatsTopology}). With `provisioning: 'verify'` the topology is managed elsewhere
   * and nothing is deleted.
   */
  async deleteTopology(topology: TopologySpec): Promise<void> {
    if (this.#closing !== undefined) throw closedError('deleteTopology');
    if (this.options.provisioning === 'verify') return;
    const { jsm } = await this.#connect();
    try {
      await deleteNatsTopology(jsm, this.names, topology, DELETE_TOPOLOGY_TIMEOUT_MS);
    } finally {
      for (const destination of topology.destinations) {
        this.#topology.forget(destination.name);
        this.#subscribers.forget(destination.name);
      }
    }
  }

  /**
   * Publish to a destination's stream and resolve once JetStream acknowledged (stored) every
   * message. Rejects with `PAYLOAD_TOO_LARGE` / `DELAY_OUT_OF_RANGE` before sending anything;
   * with `NO_SUBSCRIBERS` (retriable, nothing stored) when the destination's stream has no
   * consumer — no group was provisioned — asked of the server until a first positive answer,
   * which is remembered; with `PUBLISH_FAILED` when no stream exists for the destination
   * (unprovisioned), on a negative PubAck, or without a PubAck within `publishTimeoutMs` (the
   * message may then be stored or not; a re-publish with the same id within the duplicate window
   * is dropped). Not atomic.
   */
  async publish(destination: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.#closing !== undefined) throw closedError('publish');
    let delayed = false;
    for (const message of messages) if (this.#publisher.check(destination, message) > 0) delayed = true;
    if (messages.length === 0) return;
    const deadline = publishDeadline(this.options.publishTimeoutMs);
    const { nc, js, jsm } = await this.#connect();
    // Asked of the server only until the first positive answer (no round trip afterwards).
    if (this.#subscribers.require(destination) !== undefined) {
      await resendUntil(deadline, { transport: 'NATS', destination, isTransient }, async () => {
        await this.#subscribers.require(destination);
      }).catch((error: unknown) => {
        throw publishError(error, destination);
      });
    }
    if (delayed)
      await this.#delays.start(nc, jsm).catch((error: unknown) => {
        throw publishError(error, destination);
      });
    await this.#publisher.publish(js, destination, messages, deadline);
  }

  /**
   * The group's unsettled messages, from its durable consumers' info: not yet delivered plus
   * delivered and not yet acked (kind `unsettled`, exact). Rejects with `BACKLOG_UNAVAILABLE`
   * when the destination or group does not exist or the server does not answer.
   */
  async readBacklog(destination: string, group: string): Promise<BacklogReading> {
    const { jsm } = await this.#connect();
    return readNatsBacklog(jsm, this.names, destination, group);
  }

  /**
   * Start consuming one group of a provisioned destination (its consumers are added in `create`
   * mode). Rejects with `SUBSCRIBE_FAILED` when the destination's stream or (in `verify` mode)
   * the group's consumers do not exist. The subscription survives reconnects and restarts.
   */
  async subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription> {
    if (this.#closing !== undefined) throw closedError('subscribe');
    const { nc, js, jsm } = await this.#connect();
    try {
      await this.#topology.checkDestination(jsm, spec.destination);
      // Adds (create) or checks (verify) every consumer of the group.
      await this.#topology.provisionGroup(jsm, spec.destination, { name: spec.group, ordered: spec.ordered });
    } catch (error) {
      throw subscribeError(error, spec.destination, spec.group);
    }
    this.#subscribers.markSubscribed(spec.destination);
    if (this.#closing !== undefined) throw closedError('subscribe');
    // Every started transport forwards due delayed messages (also those of a process that died).
    this.#delays.start(nc, jsm).catch((error: unknown) => this.#hooks.onError?.(error));
    const subscription: NatsSubscription = new NatsSubscription({
      spec,
      onDelivery,
      options: this.options,
      nc,
      stream: this.names.stream(spec.destination),
      consumers: this.names.consumers(spec.group, spec.ordered),
      settlement: {
        publishDeadLetter: (headers, payload) =>
          this.#publisher.publishDeadLetter(js, spec.destination, spec.group, headers, payload),
        flush: () => nc.flush(),
        request: (subject, body, timeoutMs) => nc.request(subject, body, { timeout: timeoutMs }),
        connection: () => ({ losses: this.#connectionLosses, inBytes: nc.stats().inBytes }),
      },
      onError: (error) => this.#hooks.onError?.(error),
      onClosed: () => this.#subscriptions.delete(subscription),
    });
    this.#subscriptions.add(subscription);
    subscription.start();
    return subscription;
  }

  /**
   * Close every subscription (draining up to `drainTimeoutMs`, default 10 s), then the connection.
   * Idempotent; never rejects. Later calls reject with `BUS_CLOSED`.
   */
  close(drainTimeoutMs: number = DEFAULT_DRAIN_MS): Promise<void> {
    this.#closing ??= this.#close(drainTimeoutMs);
    return this.#closing;
  }

  /** The `NatsConnection` (undefined before connect and after close). */
  raw(): NatsConnection | undefined {
    return this.#connected?.nc;
  }

  /** The JetStream manager of the live connection (connects first): streams, consumers, messages. */
  async manager(): Promise<JetStreamManager> {
    return (await this.#connect()).jsm;
  }

  /** Whether the destination's stream has a consumer (a group); rejects when it has no stream. */
  async #hasConsumers(destination: string): Promise<boolean> {
    const { jsm } = await this.#connect();
    return (await this.#topology.consumerCount(jsm, destination)) > 0;
  }

  #connect(): Promise<Connected> {
    if (this.#closing !== undefined) return Promise.reject(closedError('connect'));
    this.#connecting ??= this.#open().catch((error: unknown) => {
      this.#connecting = undefined;
      if (this.#closing === undefined) this.#tracker.set('idle', asError(error));
      throw error;
    });
    return this.#connecting;
  }

  async #open(): Promise<Connected> {
    const { options } = this;
    this.#tracker.set('connecting');
    let nc: NatsConnection;
    try {
      nc = await natsConnect({
        servers: [...options.servers],
        name: options.connectionName,
        timeout: options.connectTimeoutMs,
        maxReconnectAttempts: -1,
        reconnectTimeWait: options.reconnectWaitMs,
        ...(options.username !== undefined ? { user: options.username } : {}),
        ...(options.password !== undefined ? { pass: options.password } : {}),
        ...(options.token !== undefined ? { token: options.token } : {}),
      });
    } catch (error) {
      throw connectionError(error, options.servers);
    }
    try {
      const jsm = await jetstreamManager(nc, { timeout: options.connectTimeoutMs });
      const js = jetstream(nc, { timeout: options.publishTimeoutMs });
      const connected = { nc, js, jsm };
      this.#connected = connected;
      void this.#watch(connected);
      this.#tracker.set('ready');
      return connected;
    } catch (error) {
      await nc.close().catch(() => undefined);
      throw connectionError(error, options.servers);
    }
  }

  /** Mirror the client's connection events into the status; re-provision after a reconnect. */
  async #watch({ nc, jsm }: Connected): Promise<void> {
    for await (const event of nc.status()) {
      if (this.#closing !== undefined) continue;
      if (event.type === 'disconnect' || event.type === 'staleConnection') {
        this.#connectionLosses += 1;
        this.#tracker.set('reconnecting');
        this.#publisher.connectionLost();
        this.#delays.connectionLost();
        for (const subscription of this.#subscriptions) subscription.connectionLost();
      }
      if (event.type === 'reconnect') {
        this.#tracker.set('ready');
        if (this.options.storage === 'memory') {
          this.#topology.redeclare(jsm).catch((error: unknown) => this.#hooks.onError?.(error));
        }
      }
    }
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    this.#tracker.set('closing');
    await Promise.all([
      ...[...this.#subscriptions].map((subscription) => subscription.close(drainTimeoutMs)),
      this.#delays.close(),
    ]);
    const connecting = this.#connecting;
    if (connecting !== undefined) {
      const connected = await connecting.catch(() => undefined);
      await connected?.nc.close().catch(() => undefined);
    }
    this.#connected = undefined;
    this.#tracker.set('closed');
  }
}

/** Capabilities for a set of options: what the contract suite proves for this adapter. */
export function natsCapabilities(options: NatsTransportOptions): TransportCapabilities {
  return {
    ordering: 'per-key',
    // Emulated: a delay stream and a forwarder (see NatsDelays); the nak delay's limit.
    delayedDelivery: { maxDelayMs: options.maxRetryDelayMs, emulated: true },
    maxRetryDelayMs: options.maxRetryDelayMs,
    maxPayloadBytes: options.maxPayloadBytes,
    competingConsumers: true,
    fanOut: true,
    survivesBrokerRestart: options.storage === 'file',
    noDuplicatesWithoutFaults: true,
    publishDeduplication: options.duplicateWindowMs > 0,
    atomicBatchPublish: false,
    deadLetterStore: true,
    backlog: { kind: 'unsettled', approximate: false },
    publishWithoutSubscribers: 'rejects',
  };
}
