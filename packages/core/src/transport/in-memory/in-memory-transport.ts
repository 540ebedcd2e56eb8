import { ErrorCodes } from '../../errors/error-codes.js';
import { OmnibusError, isOmnibusError } from '../../errors/omnibus-error.js';
import { TransportStatusTracker } from '../transport-status-tracker.js';
import { checkPublish } from '../../adapter-kit/check-publish.js';
import { SETTLED_SYNC } from '../settled-sync.js';
import type { BacklogReading } from '../backlog.js';
import type { TransportCapabilities } from '../capabilities.js';
import type { DeliveryHandler } from '../delivery.js';
import type { OutgoingMessage } from '../outgoing-message.js';
import type { TopologySpec } from '../topology.js';
import type { TopologyInspection, TopologyItem } from '../topology-inspection.js';
import type {
  Subscription,
  SubscriptionSpec,
  Transport,
  TransportStatus,
  TransportStatusListener,
} from '../transport.js';
import { InMemoryBroker } from './in-memory-broker.js';
import type { InMemoryConnection } from './in-memory-connection.js';
import {
  resolveInMemoryOptions,
  type InMemoryTransportOptions,
  type ResolvedInMemoryOptions,
} from './in-memory-options.js';
import { InMemorySubscription } from './in-memory-subscription.js';
import { inMemoryDeadLetterStore } from './in-memory-dead-letters.js';
import type { DeadLetterStore } from '../../dead-letter/dead-letter-store.js';

const DEFAULT_DRAIN_MS = 5_000;

/**
 * The reference implementation of the {@link Transport} SPI and the embedded default: an
 * in-process broker ({@link InMemoryBroker}) with durable-for-the-process queues per consumer
 * group, dead-letter queues, native delays, per-key ordering and competing consumers.
 *
 * Concurrency: every method may be called concurrently after `connect()` resolved. Failure:
 * every rejection is an {@link OmnibusError}; publish is all-or-nothing per call and rejects with
 * `NO_SUBSCRIBERS` when the destination has no group (exact, every publish). While the
 * (simulated) connection is down, `publish` waits up to `connectTimeoutMs` and then rejects
 * (retriable); subscriptions re-attach by themselves. `close()` is idempotent and leaves no
 * timers or other handles behind.
 */
export class InMemoryTransport implements Transport {
  readonly name = 'in-memory';
  readonly capabilities: TransportCapabilities;
  /** The broker this transport is attached to (also returned by {@link raw}). */
  readonly broker: InMemoryBroker;
  /** Browse, replay and purge dead letters (works on the broker, connected or not). */
  readonly deadLetters: DeadLetterStore;
  readonly #options: ResolvedInMemoryOptions;
  readonly #tracker = new TransportStatusTracker();
  readonly #subscriptions = new Set<InMemorySubscription>();
  readonly #readyWaiters = new Set<(error?: Error) => void>();
  #connection: InMemoryConnection | undefined;
  #connectPromise: Promise<void> | undefined;
  #closePromise: Promise<void> | undefined;
  #reconnectTimer: NodeJS.Timeout | undefined;
  #cancelUpWait: (() => void) | undefined;

  constructor(options: InMemoryTransportOptions = {}) {
    this.#options = resolveInMemoryOptions(options);
    this.broker = options.broker ?? new InMemoryBroker();
    const { maxDelayMs, maxPayloadBytes, deduplicationWindowMs } = this.#options;
    this.capabilities = Object.freeze({
      ordering: 'per-key',
      delayedDelivery: maxDelayMs > 0 ? Object.freeze({ maxDelayMs, emulated: false }) : false,
      maxRetryDelayMs: maxDelayMs,
      maxPayloadBytes,
      competingConsumers: true,
      fanOut: true,
      survivesBrokerRestart: true,
      noDuplicatesWithoutFaults: true,
      publishDeduplication: deduplicationWindowMs > 0,
      atomicBatchPublish: true,
      deadLetterStore: true,
      backlog: Object.freeze({ kind: 'unsettled', approximate: false }),
      publishWithoutSubscribers: 'rejects',
    });
    this.deadLetters = inMemoryDeadLetterStore(this.broker);
  }

  get status(): TransportStatus {
    return this.#tracker.status;
  }

  onStatusChange(listener: TransportStatusListener): () => void {
    return this.#tracker.onChange(listener);
  }

  connect(): Promise<void> {
    if (this.#tracker.status === 'closing' || this.#tracker.status === 'closed') {
      return Promise.reject(new OmnibusError(ErrorCodes.CONNECTION_FAILED, 'in-memory transport is closed'));
    }
    this.#connectPromise ??= this.#connect().catch((error: unknown) => {
      this.#connectPromise = undefined;
      if (this.#tracker.status === 'connecting') this.#setStatus('idle');
      throw error;
    });
    return this.#connectPromise;
  }

  provision(topology: TopologySpec): Promise<void> {
    if (this.#tracker.status === 'closing' || this.#tracker.status === 'closed') {
      return Promise.reject(
        new OmnibusError(ErrorCodes.PROVISIONING_FAILED, 'in-memory transport is closed'),
      );
    }
    try {
      this.broker.provision(topology);
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error('non-Error thrown', { cause: error }));
    }
  }

  /** Delete the destinations and groups of `topology` from the broker (idempotent). */
  deleteTopology(topology: TopologySpec): Promise<void> {
    this.broker.deleteTopology(topology);
    return Promise.resolve();
  }

  /** Messages of the group not yet settled: waiting (delayed retries included) plus in handlers. Exact. */
  readBacklog(destination: string, group: string): Promise<BacklogReading> {
    if (!this.broker.has(destination, group))
      return Promise.reject(
        new OmnibusError(
          ErrorCodes.BACKLOG_UNAVAILABLE,
          `in-memory group "${group}" of "${destination}" is not provisioned`,
        ),
      );
    const stats = this.broker.stats(destination, group);
    return Promise.resolve({
      destination,
      group,
      messages: stats.ready + stats.inFlight,
      kind: 'unsettled',
      approximate: false,
    });
  }

  /** Which destinations and groups of `topology` the broker has (dead letters live with their group). */
  inspectTopology(topology: TopologySpec): Promise<TopologyInspection> {
    const items: TopologyItem[] = [];
    for (const destination of topology.destinations) {
      const name = destination.name;
      items.push({
        kind: 'destination',
        destination: name,
        nativeName: name,
        state: this.broker.has(name) ? 'present' : 'missing',
      });
      for (const group of destination.groups) {
        const state = this.broker.has(name, group.name) ? 'present' : 'missing';
        items.push({
          kind: 'group',
          destination: name,
          group: group.name,
          nativeName: `${name}/${group.name}`,
          state,
        });
        items.push({
          kind: 'dead-letter',
          destination: name,
          group: group.name,
          nativeName: `${name}/${group.name} (dead letters)`,
          state,
        });
      }
    }
    return Promise.resolve({ items });
  }

  publish(destination: string, messages: readonly OutgoingMessage[]): Promise<void> {
    try {
      if (this.#tracker.status === 'closing' || this.#tracker.status === 'closed') {
        throw new OmnibusError(
          ErrorCodes.PUBLISH_FAILED,
          `cannot publish to "${destination}": in-memory transport is closed`,
        );
      }
      if (this.#tracker.status === 'idle') {
        throw new OmnibusError(
          ErrorCodes.PUBLISH_FAILED,
          `cannot publish to "${destination}": call connect() first`,
        );
      }
      const prepared = this.#prepareAll(destination, messages);
      if (prepared.length === 0) return SETTLED_SYNC;
      const ready = this.#connection;
      if (this.#tracker.status === 'ready' && ready?.alive === true) {
        // Connected: stored synchronously, no promise of its own (SETTLED_SYNC).
        try {
          ready.publish(destination, prepared, this.#options.deduplicationWindowMs);
          return SETTLED_SYNC;
        } catch (error) {
          if (!(isOmnibusError(error) && error.code === ErrorCodes.CONNECTION_FAILED && !ready.alive)) throw error;
        }
      }
      return this.#publishWhenReady(destination, prepared);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Publish once a (re)connection is ready, waiting up to `connectTimeoutMs` for it. */
  async #publishWhenReady(destination: string, prepared: readonly OutgoingMessage[]): Promise<void> {
    for (;;) {
      const ready = this.#connection;
      const connection =
        this.#tracker.status === 'ready' && ready?.alive === true ? ready : await this.#whenReady();
      try {
        connection.publish(destination, prepared, this.#options.deduplicationWindowMs);
        return;
      } catch (error) {
        // The connection dropped between the wait and the publish: wait for the reconnect.
        if (isOmnibusError(error) && error.code === ErrorCodes.CONNECTION_FAILED && !connection.alive)
          continue;
        throw error;
      }
    }
  }

  subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription> {
    return new Promise((resolve) => resolve(this.#subscribe(spec, onDelivery)));
  }

  #subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Subscription {
    if (this.#tracker.status !== 'ready' && this.#tracker.status !== 'reconnecting') {
      throw new OmnibusError(
        ErrorCodes.SUBSCRIBE_FAILED,
        `cannot subscribe to "${spec.destination}" while the transport is ${this.#tracker.status}`,
      );
    }
    if (!Number.isInteger(spec.concurrency) || spec.concurrency < 1) {
      throw new OmnibusError(
        ErrorCodes.SUBSCRIBE_FAILED,
        `concurrency must be an integer ≥ 1, got ${String(spec.concurrency)}`,
      );
    }
    this.broker.group(spec.destination, spec.group);
    const subscription = new InMemorySubscription(spec, onDelivery, {
      prefetch: this.#options.prefetch > 0 ? this.#options.prefetch : spec.concurrency * 2,
      maxRetryDelayMs: this.#options.maxDelayMs,
      onClosed: (closed) => this.#subscriptions.delete(closed),
    });
    this.#subscriptions.add(subscription);
    if (this.#connection !== undefined) subscription.attach(this.#connection);
    return subscription;
  }

  close(drainTimeoutMs = DEFAULT_DRAIN_MS): Promise<void> {
    this.#closePromise ??= this.#close(drainTimeoutMs);
    return this.#closePromise;
  }

  /** The {@link InMemoryBroker} (the "native client" of this transport). */
  raw(): InMemoryBroker {
    return this.broker;
  }

  async #connect(): Promise<void> {
    this.#setStatus('connecting');
    await this.#waitForBroker();
    if (this.#tracker.status !== 'connecting') {
      throw new OmnibusError(ErrorCodes.CONNECTION_FAILED, 'in-memory transport was closed while connecting');
    }
    this.#connection = this.broker.connect((error) => this.#onConnectionLost(error));
    this.#setStatus('ready');
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    this.#setStatus('closing');
    this.#stopReconnecting();
    const closed = new OmnibusError(ErrorCodes.PUBLISH_FAILED, 'in-memory transport is closed');
    for (const wake of [...this.#readyWaiters]) wake(closed);
    await Promise.all([...this.#subscriptions].map((subscription) => subscription.close(drainTimeoutMs)));
    this.#connection?.close();
    this.#connection = undefined;
    this.#setStatus('closed');
  }

  /** Check every message; returns `messages` itself unless a delay had to be normalised (no copy of the list). */
  #prepareAll(destination: string, messages: readonly OutgoingMessage[]): readonly OutgoingMessage[] {
    let out: OutgoingMessage[] | undefined;
    for (let i = 0; i < messages.length; i += 1) {
      const message = messages[i] as OutgoingMessage;
      const checked = this.#prepare(destination, message);
      if (checked !== message) out ??= messages.slice(0, i);
      out?.push(checked);
    }
    return out ?? messages;
  }

  /** Check one message; returns it as is unless its delay had to be normalised (no copy per message). */
  #prepare(destination: string, message: OutgoingMessage): OutgoingMessage {
    const envelope = message.envelope;
    const delayMs = checkPublish(this, destination, message);
    if (typeof envelope.id !== 'string' || envelope.id === '') {
      throw new OmnibusError(ErrorCodes.PUBLISH_FAILED, `a message to "${destination}" has no id`);
    }
    for (const name in envelope.headers) {
      if (typeof envelope.headers[name] !== 'string') {
        throw new OmnibusError(
          ErrorCodes.PUBLISH_FAILED,
          `header "${name}" of message ${envelope.id} is not a string`,
        );
      }
    }
    return delayMs === (message.delayMs ?? 0) ? message : { envelope, delayMs };
  }

  #onConnectionLost(error: Error): void {
    if (this.#tracker.status === 'closing' || this.#tracker.status === 'closed') return;
    this.#connection = undefined;
    for (const subscription of this.#subscriptions) subscription.detached();
    this.#setStatus('reconnecting', error);
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    this.#stopReconnecting();
    this.#reconnectTimer = setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#reconnect();
    }, this.#options.reconnectDelayMs);
  }

  #reconnect(): void {
    if (this.#tracker.status !== 'reconnecting') return;
    if (!this.broker.isUp) {
      this.#cancelUpWait = this.broker.onUp(() => {
        this.#cancelUpWait = undefined;
        this.#scheduleReconnect();
      });
      return;
    }
    const connection = this.broker.connect((error) => this.#onConnectionLost(error));
    this.#connection = connection;
    for (const subscription of this.#subscriptions) subscription.attach(connection);
    this.#setStatus('ready');
  }

  #stopReconnecting(): void {
    if (this.#reconnectTimer !== undefined) clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
    this.#cancelUpWait?.();
    this.#cancelUpWait = undefined;
  }

  /** Resolves with a live connection; rejects after `connectTimeoutMs` or on close. */
  async #whenReady(): Promise<InMemoryConnection> {
    for (;;) {
      const connection = this.#connection;
      if (this.#tracker.status === 'ready' && connection?.alive === true) return connection;
      await this.#waitForReady();
    }
  }

  #waitForReady(): Promise<void> {
    if (
      this.#tracker.status === 'closing' ||
      this.#tracker.status === 'closed' ||
      this.#tracker.status === 'idle'
    ) {
      return Promise.reject(
        new OmnibusError(ErrorCodes.PUBLISH_FAILED, `in-memory transport is ${this.#tracker.status}`),
      );
    }
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        wake(
          new OmnibusError(
            ErrorCodes.PUBLISH_FAILED,
            `in-memory broker unreachable for ${String(this.#options.connectTimeoutMs)} ms`,
            { retriable: true },
          ),
        );
      }, this.#options.connectTimeoutMs);
      const wake = (error?: Error): void => {
        clearTimeout(timer);
        this.#readyWaiters.delete(wake);
        if (error === undefined) resolve();
        else reject(error);
      };
      this.#readyWaiters.add(wake);
    });
  }

  /** Wait for the broker to be up (connect during a simulated outage), bounded by `connectTimeoutMs` and by close. */
  #waitForBroker(): Promise<void> {
    if (this.broker.isUp) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const finish = (error?: Error): void => {
        clearTimeout(timer);
        dispose();
        this.#readyWaiters.delete(onClose);
        if (error === undefined) resolve();
        else reject(error);
      };
      const onClose = (error?: Error): void => {
        if (error !== undefined) finish(error);
      };
      const timer = setTimeout(() => {
        finish(
          new OmnibusError(
            ErrorCodes.CONNECTION_FAILED,
            `in-memory broker unreachable for ${String(this.#options.connectTimeoutMs)} ms`,
            { retriable: true },
          ),
        );
      }, this.#options.connectTimeoutMs);
      const dispose = this.broker.onUp(() => finish());
      this.#readyWaiters.add(onClose);
    });
  }

  #setStatus(status: TransportStatus, error?: Error): void {
    this.#tracker.set(status, error);
    if (status === 'ready') for (const wake of [...this.#readyWaiters]) wake();
  }
}
