import { ErrorCodes } from '../../errors/error-codes.js';
import { OmnibusError } from '../../errors/omnibus-error.js';
import type { MessageEnvelope } from '../../message/envelope.js';
import { envelopeFromWire } from '../../message/wire-headers.js';
import type { DeadLetterReason, Delivery } from '../delivery.js';
import type { Lease } from './in-memory-message.js';

/** The broker-native view of an in-memory delivery, exposed as {@link Delivery.raw}. */
export interface InMemoryRawMessage {
  readonly brokerMessageId: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly enqueuedAt: Date;
}

/**
 * A lease as a {@link Delivery}. The first successful settlement wins; later ones are ignored
 * (resolve). Settling a lease the broker already took back (subscription closed after its
 * drain timeout, connection dropped) rejects with SETTLEMENT_FAILED: the message is
 * redelivered, never lost. A retry delay outside `[0, maxRetryDelayMs]` rejects with
 * DELAY_OUT_OF_RANGE and leaves the delivery unsettled (it is never shortened).
 *
 * The envelope is the broker's frozen snapshot taken at publish (foreign messages: decoded from
 * their headers), shared by every delivery of the message; its payload is the broker's stored
 * copy, not a fresh copy per delivery, so like every envelope field it is read-only.
 */
class InMemoryDelivery implements Delivery {
  readonly envelope: MessageEnvelope;
  readonly deliveryAttempt: number;
  readonly receivedAt: Date;
  readonly destination: string;
  readonly group: string;
  readonly #lease: Lease;
  readonly #maxRetryDelayMs: number;
  #settled = false;

  constructor(lease: Lease, maxRetryDelayMs: number) {
    const message = lease.message;
    this.#lease = lease;
    this.#maxRetryDelayMs = maxRetryDelayMs;
    this.envelope =
      message.envelope ??
      envelopeFromWire({
        headers: message.headers,
        payload: message.payload,
        fallbackId: message.brokerMessageId,
        fallbackTime: message.enqueuedAt,
      });
    this.deliveryAttempt = lease.deliveryAttempt;
    this.receivedAt = new Date();
    this.destination = lease.group.destination;
    this.group = lease.group.name;
  }

  get raw(): InMemoryRawMessage {
    const message = this.#lease.message;
    return {
      brokerMessageId: message.brokerMessageId,
      headers: message.headers,
      enqueuedAt: message.enqueuedAt,
    };
  }

  ack(): Promise<void> {
    if (this.#settled) return Promise.resolve();
    const lease = this.#lease;
    return this.#settle(() => lease.group.ack(lease));
  }

  retry(delayMs: number): Promise<void> {
    if (this.#settled) return Promise.resolve();
    if (
      typeof delayMs !== 'number' ||
      !Number.isFinite(delayMs) ||
      delayMs < 0 ||
      delayMs > this.#maxRetryDelayMs
    ) {
      return Promise.reject(
        new OmnibusError(
          ErrorCodes.DELAY_OUT_OF_RANGE,
          `retry delay must be between 0 and ${String(this.#maxRetryDelayMs)} ms, got ${String(delayMs)}`,
        ),
      );
    }
    const lease = this.#lease;
    return this.#settle(() => lease.group.retry(lease, delayMs));
  }

  deadLetter(reason: DeadLetterReason): Promise<void> {
    if (this.#settled) return Promise.resolve();
    const lease = this.#lease;
    return this.#settle(() => lease.group.deadLetter(lease, reason));
  }

  #settle(action: () => void): Promise<void> {
    try {
      action();
      this.#settled = true;
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error('non-Error thrown', { cause: error }));
    }
  }
}

/** Wrap a lease as a {@link Delivery} (see {@link InMemoryDelivery}). */
export function createInMemoryDelivery(lease: Lease, maxRetryDelayMs: number): Delivery {
  return new InMemoryDelivery(lease, maxRetryDelayMs);
}
