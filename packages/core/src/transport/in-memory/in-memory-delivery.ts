import { SettleOnceDelivery } from '../../adapter-kit/settle-once-delivery.js';
import type { SettlementPort } from '../../adapter-kit/settle-once-delivery.js';
import type { MessageEnvelope } from '../../message/envelope.js';
import { envelopeFromWire } from '../../message/wire-headers.js';
import type { DeadLetterReason } from '../delivery.js';
import type { GroupConsumer, Lease, LeaseState, StoredMessage } from './in-memory-message.js';
import type { InMemoryGroup } from './in-memory-group.js';
import { SETTLED_SYNC } from '../settled-sync.js';

/** The broker-native view of an in-memory delivery, exposed as `Delivery.raw`. */
export interface InMemoryRawMessage {
  readonly brokerMessageId: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly enqueuedAt: Date;
}


/**
 * Settles leases on the in-memory broker for one subscription; the deliveries themselves are
 * the adapter kit's {@link SettleOnceDelivery} (settle once, retry-delay range check). Settling a
 * lease the broker already took back (subscription closed after its drain timeout, connection
 * dropped) rejects with `SETTLEMENT_FAILED`: the message is redelivered, never lost.
 */
export class InMemorySettlement implements SettlementPort<Lease> {
  readonly transportName = 'in-memory';
  readonly retryInPlace = false;
  readonly destination: string;
  readonly group: string;
  readonly maxRetryDelayMs: number;

  constructor(destination: string, group: string, maxRetryDelayMs: number) {
    this.destination = destination;
    this.group = group;
    this.maxRetryDelayMs = maxRetryDelayMs;
  }

  /** The lease as a `Delivery`: itself when it is an {@link InMemoryDelivery}, else a wrapper. */
  delivery(lease: Lease): SettleOnceDelivery<Lease> {
    if (lease instanceof InMemoryDelivery) return lease;
    return new SettleOnceDelivery(this, lease, envelopeOf(lease.message), lease.deliveryAttempt);
  }

  ack(lease: Lease): Promise<void> {
    lease.queue.ack(lease);
    return SETTLED_SYNC;
  }

  retry(lease: Lease, delayMs: number): Promise<void> {
    lease.queue.retry(lease, delayMs);
    return SETTLED_SYNC;
  }

  deadLetter(lease: Lease, reason: DeadLetterReason): Promise<void> {
    lease.queue.deadLetter(lease, reason);
    return SETTLED_SYNC;
  }

  raw(lease: Lease): InMemoryRawMessage {
    const message = lease.message;
    return {
      brokerMessageId: message.brokerMessageId,
      headers: message.headers,
      enqueuedAt: message.enqueuedAt,
    };
  }
}

/**
 * The broker's frozen snapshot taken at publish (foreign messages: decoded from their headers),
 * shared by every delivery of the message; its payload is the broker's stored copy, not a fresh
 * copy per delivery, so like every envelope field it is read-only.
 */
function envelopeOf(message: StoredMessage): MessageEnvelope {
  return (
    message.envelope ??
    envelopeFromWire({
      headers: message.headers,
      payload: message.payload,
      fallbackId: message.brokerMessageId,
      fallbackTime: message.enqueuedAt,
    })
  );
}

/**
 * A lease that is also its delivery: the broker hands it out and the router settles it, one
 * object per delivered message instead of a lease plus a wrapper. Its native handle is itself.
 */
export class InMemoryDelivery extends SettleOnceDelivery<Lease> implements Lease {
  readonly message: StoredMessage;
  readonly queue: InMemoryGroup;
  readonly consumer: GroupConsumer;
  started = false;
  state: LeaseState = 'in-flight';

  constructor(
    settlement: InMemorySettlement,
    message: StoredMessage,
    queue: InMemoryGroup,
    consumer: GroupConsumer,
    deliveryAttempt: number,
  ) {
    super(settlement, undefined, envelopeOf(message), deliveryAttempt);
    this.message = message;
    this.queue = queue;
    this.consumer = consumer;
  }
}
