import { ErrorCodes } from '../../errors/error-codes.js';
import { OmnibusError } from '../../errors/omnibus-error.js';
import type { MessageEnvelope } from '../../message/envelope.js';
import type { InMemoryBroker } from './in-memory-broker.js';
import type { InMemoryGroup } from './in-memory-group.js';
import type { GroupConsumer, Lease } from './in-memory-message.js';

/** A consumer attached through a connection, remembered so it can be detached with it. */
export interface AttachedConsumer {
  readonly group: InMemoryGroup;
  readonly consumer: GroupConsumer;
}

/**
 * One transport's (simulated) connection to an {@link InMemoryBroker}. When the broker drops it,
 * every consumer attached through it is detached (unsettled messages released for redelivery)
 * and `onLost` is called once, asynchronously. Used by {@link InMemoryTransport} only.
 */
export class InMemoryConnection {
  readonly #broker: InMemoryBroker;
  readonly #onLost: (error: Error) => void;
  readonly #onGone: (connection: InMemoryConnection) => void;
  readonly #consumers = new Set<AttachedConsumer>();
  #alive = true;

  constructor(
    broker: InMemoryBroker,
    onLost: (error: Error) => void,
    onGone: (connection: InMemoryConnection) => void,
  ) {
    this.#broker = broker;
    this.#onLost = onLost;
    this.#onGone = onGone;
  }

  /** False once lost or closed. */
  get alive(): boolean {
    return this.#alive;
  }

  /** Publish envelopes through this connection; throws CONNECTION_FAILED (retriable) when it is gone. */
  publish(
    destination: string,
    messages: readonly { readonly envelope: MessageEnvelope; readonly delayMs?: number }[],
    deduplicationWindowMs: number,
  ): void {
    this.#assertAlive();
    this.#broker.publishEnvelopes(destination, messages, deduplicationWindowMs);
  }

  /** Attach a consumer to a provisioned group. Throws SUBSCRIBE_FAILED when not provisioned. */
  attach(
    destination: string,
    groupName: string,
    options: { readonly prefetch: number; readonly ordered: boolean },
    deliver: (lease: Lease) => void,
    lease?: GroupConsumer['lease'],
  ): AttachedConsumer {
    this.#assertAlive();
    const group = this.#broker.group(destination, groupName);
    if (options.ordered) group.ordered = true;
    const consumer: GroupConsumer =
      lease === undefined
        ? { prefetch: options.prefetch, outstanding: 0, intake: true, deliver }
        : { prefetch: options.prefetch, outstanding: 0, intake: true, deliver, lease };
    const attached = { group, consumer };
    this.#consumers.add(attached);
    group.attach(consumer);
    return attached;
  }

  /** Stop new deliveries to the consumer; its leases stay valid. */
  stopIntake(attached: AttachedConsumer): void {
    attached.group.stopIntake(attached.consumer);
  }

  /** Detach the consumer; its unsettled leases are released for redelivery. */
  detach(attached: AttachedConsumer): void {
    if (!this.#consumers.delete(attached)) return;
    attached.group.detach(attached.consumer);
  }

  /** Close normally: detach every consumer. Idempotent. */
  close(): void {
    if (!this.#alive) return;
    this.#alive = false;
    this.#detachAll();
    this.#onGone(this);
  }

  /** Broker side: the connection is lost. Detaches everything and notifies the owner once. */
  lose(error: Error): void {
    if (!this.#alive) return;
    this.#alive = false;
    this.#detachAll();
    this.#onGone(this);
    queueMicrotask(() => this.#onLost(error));
  }

  #detachAll(): void {
    for (const attached of [...this.#consumers]) {
      this.#consumers.delete(attached);
      attached.group.detach(attached.consumer);
    }
  }

  #assertAlive(): void {
    if (!this.#alive)
      throw new OmnibusError(ErrorCodes.CONNECTION_FAILED, 'in-memory connection is closed', {
        retriable: true,
      });
  }
}
