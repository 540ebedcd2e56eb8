import { KeyedDispatcher } from '../keyed-dispatcher.js';
import { SETTLED_SYNC } from '../settled-sync.js';
import type { DeliveryHandler } from '../delivery.js';
import type { Subscription, SubscriptionSpec } from '../transport.js';
import type { AttachedConsumer, InMemoryConnection } from './in-memory-connection.js';
import { InMemoryDelivery, InMemorySettlement } from './in-memory-delivery.js';
import type { Lease } from './in-memory-message.js';

/** Settings an {@link InMemorySubscription} takes from its transport. */
export interface InMemorySubscriptionSettings {
  readonly prefetch: number;
  readonly maxRetryDelayMs: number;
  readonly onClosed: (subscription: InMemorySubscription) => void;
}

/**
 * Transport-side subscription: one {@link KeyedDispatcher} (concurrency limit and per-key order)
 * that outlives reconnects, fed by a broker consumer that is re-created on every (re)attach.
 * Leases the broker took back while they waited in the dispatcher are skipped when their turn
 * comes, so the concurrency limit holds across a reconnect.
 */
export class InMemorySubscription implements Subscription {
  readonly spec: SubscriptionSpec;
  readonly #onDelivery: DeliveryHandler;
  readonly #settings: InMemorySubscriptionSettings;
  readonly #dispatcher: KeyedDispatcher<Lease>;
  readonly #settlement: InMemorySettlement;
  #connection: InMemoryConnection | undefined;
  #consumer: AttachedConsumer | undefined;
  #closePromise: Promise<void> | undefined;

  constructor(spec: SubscriptionSpec, onDelivery: DeliveryHandler, settings: InMemorySubscriptionSettings) {
    this.spec = spec;
    this.#onDelivery = onDelivery;
    this.#settings = settings;
    this.#settlement = new InMemorySettlement(spec.destination, spec.group, settings.maxRetryDelayMs);
    this.#dispatcher = new KeyedDispatcher<Lease>({
      concurrency: spec.concurrency,
      ordered: spec.ordered,
      run: (lease) => this.#run(lease),
    });
  }

  /** Attach to the broker through `connection` (first subscribe and after every reconnect). */
  attach(connection: InMemoryConnection): void {
    if (this.#closePromise !== undefined) return;
    this.#connection = connection;
    this.#consumer = connection.attach(
      this.spec.destination,
      this.spec.group,
      { prefetch: Math.max(this.#settings.prefetch, this.spec.concurrency), ordered: this.spec.ordered },
      (lease) => this.#dispatcher.push(lease, lease.message.partitionKey),
      (message, queue, consumer, deliveryAttempt) =>
        new InMemoryDelivery(this.#settlement, message, queue, consumer, deliveryAttempt),
    );
  }

  /** The connection was lost: the broker already released every lease of this consumer. */
  detached(): void {
    this.#connection = undefined;
    this.#consumer = undefined;
  }

  /**
   * Stop intake, release buffered (unstarted) messages at once, wait up to `drainTimeoutMs`
   * for running handlers, then detach; anything still unsettled is redelivered as a new
   * attempt. Idempotent: later calls return the first call's promise.
   */
  close(drainTimeoutMs: number): Promise<void> {
    this.#closePromise ??= this.#close(drainTimeoutMs);
    return this.#closePromise;
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    const connection = this.#connection;
    const consumer = this.#consumer;
    if (connection !== undefined && consumer !== undefined) connection.stopIntake(consumer);
    for (const lease of this.#dispatcher.stop()) lease.queue.release(lease);
    await this.#dispatcher.drain(Math.max(0, drainTimeoutMs));
    if (connection !== undefined && consumer !== undefined) connection.detach(consumer);
    this.#connection = undefined;
    this.#consumer = undefined;
    this.#settings.onClosed(this);
  }

  #run(lease: Lease): Promise<void> {
    if (lease.state !== 'in-flight') return SETTLED_SYNC;
    lease.started = true;
    return this.#onDelivery(this.#settlement.delivery(lease));
  }
}
