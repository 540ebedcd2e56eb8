import { ErrorCodes } from '../../errors/error-codes.js';
import { OmnibusError } from '../../errors/omnibus-error.js';
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
 * Wrap a lease as a {@link Delivery}. The first successful settlement wins; later ones are
 * ignored (resolve). Settling a lease the broker already took back (subscription closed after
 * its drain timeout, connection dropped) rejects with SETTLEMENT_FAILED: the message is
 * redelivered, never lost. A retry delay outside `[0, maxRetryDelayMs]` rejects with
 * DELAY_OUT_OF_RANGE and leaves the delivery unsettled (it is never shortened).
 */
export function createInMemoryDelivery(lease: Lease, maxRetryDelayMs: number): Delivery {
  const message = lease.message;
  const group = lease.group;
  let settled = false;
  const settle = (action: () => void): Promise<void> => {
    if (settled) return Promise.resolve();
    try {
      action();
      settled = true;
      return Promise.resolve();
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error('non-Error thrown', { cause: error }));
    }
  };
  const raw: InMemoryRawMessage = {
    brokerMessageId: message.brokerMessageId,
    headers: message.headers,
    enqueuedAt: message.enqueuedAt,
  };
  return {
    envelope: envelopeFromWire({
      headers: message.headers,
      payload: message.payload.slice(),
      fallbackId: message.brokerMessageId,
      fallbackTime: message.enqueuedAt,
    }),
    deliveryAttempt: lease.deliveryAttempt,
    receivedAt: new Date(),
    destination: group.destination,
    group: group.name,
    raw,
    ack: () => settle(() => group.ack(lease)),
    retry: (delayMs: number) => {
      if (settled) return Promise.resolve();
      if (
        typeof delayMs !== 'number' ||
        !Number.isFinite(delayMs) ||
        delayMs < 0 ||
        delayMs > maxRetryDelayMs
      ) {
        return Promise.reject(
          new OmnibusError(
            ErrorCodes.DELAY_OUT_OF_RANGE,
            `retry delay must be between 0 and ${String(maxRetryDelayMs)} ms, got ${String(delayMs)}`,
          ),
        );
      }
      return settle(() => group.retry(lease, delayMs));
    },
    deadLetter: (reason: DeadLetterReason) => settle(() => group.deadLetter(lease, reason)),
  };
}
