import { ErrorCodes, OmnibusError, deadLetterWireHeaders } from '@omnibus/core';
import type { DeadLetterReason, Delivery } from '@omnibus/core';
import type { ServiceBusMessage, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { mapAzureError } from './azure-error-mapper.js';
import { abandonInLane, completeInLane, dispositionLane } from './consumers/disposition-lane.js';
import { receivedOnClosedLink, settleWhileLinkOpen } from './consumers/receive-link-state.js';
import { toRetryCopy } from './message-mapper.js';
import type { DecodedMessage } from './message-mapper.js';

/** Service Bus limit on the dead-letter reason and description fields. */
const MAX_DEAD_LETTER_FIELD = 4096;

/** Where a delivery came from and how to settle it. */
export interface AzureDeliveryContext {
  readonly receiver: ServiceBusReceiver;
  readonly destination: string;
  readonly group: string;
  /** Subscription entity name (the retry copy's target). */
  readonly subscription: string;
  /**
   * `in-place` (ordered, session receivers): wait out the delay while holding the session, then
   * abandon, so the message is redelivered before anything behind it. `scheduled-copy`
   * (unordered): schedule a copy at now + delay, then complete the original.
   */
  readonly retryMode: 'in-place' | 'scheduled-copy';
  /** Durably sends a retry copy to the topic (resolves when the broker accepted it). */
  readonly sendCopy: (copy: ServiceBusMessage) => Promise<void>;
  /** Resolves after `ms`, or earlier when the subscription is closing past its drain time. */
  readonly wait: (ms: number) => Promise<void>;
  /** Longest retry delay accepted (`capabilities.maxRetryDelayMs`). */
  readonly maxRetryDelayMs: number;
  /**
   * Resolves true only when the message is provably gone from the subscription: used when a
   * connection dropped while a complete or dead-letter was pending, to tell "applied" from "not
   * applied". Absent (session receivers): such a settlement rejects.
   */
  readonly confirmRemoved?: (message: ServiceBusReceivedMessage) => Promise<boolean>;
}

/** A {@link Delivery} plus whether the router settled it. */
export interface AzureDelivery extends Delivery {
  /** True once ack, retry or dead-letter was called (or the delivery was released). */
  readonly settled: boolean;
  /**
   * Give the message back to the broker (abandon) unless it was settled, and ignore any later
   * settlement: used when a subscription closes while the handler is still running. Never rejects.
   */
  release(): Promise<void>;
}

/**
 * Build the {@link Delivery} for one peek-locked message. Settlement is native:
 * `ack` → complete; `retry` → scheduled copy then complete (unordered; may duplicate, never
 * loses) or delay then abandon within the session lock (ordered; the broker's delivery count
 * carries the attempt); `deadLetter` → the native dead-letter sub-queue with
 * `DeadLetterReason` = code, `DeadLetterErrorDescription` = message and the Omnibus
 * `omnibus-dead-letter-*` properties. The first settlement wins; later calls resolve without
 * doing anything. Failures reject with `SETTLEMENT_FAILED` (a lost lock means the broker
 * redelivers the message). A message whose link is gone (the connection dropped after it was
 * received) is not settled at all: the call rejects at once with `SETTLEMENT_FAILED`, no retry
 * copy is sent, and the broker redelivers the message when its lock expires (see
 * {@link receivedOnClosedLink}). When the link closes while a settlement is pending, a complete
 * or dead-letter resolves if `confirmRemoved` proves the broker applied it, and otherwise
 * rejects the same way, at once.
 */
export function createAzureDelivery(
  message: ServiceBusReceivedMessage,
  decoded: DecodedMessage,
  context: AzureDeliveryContext,
): AzureDelivery {
  let settled = false;
  /** `removes`: the settlement takes the message out of the subscription (complete, dead-letter). */
  const once = (action: () => Promise<void>, removes: boolean): Promise<void> => {
    if (settled) return Promise.resolve();
    settled = true;
    // Nothing was sent yet: the message is certainly not settled and comes back after its lock.
    if (receivedOnClosedLink(message)) return Promise.reject(staleLinkError(decoded, context, false));
    const cutOff = new Error('link closed while settling');
    return settleWhileLinkOpen(message, action(), () => cutOff).catch(async (error: unknown) => {
      if (error === cutOff) {
        if (removes && context.confirmRemoved !== undefined && (await context.confirmRemoved(message)))
          return;
        throw staleLinkError(decoded, context, true);
      }
      throw mapAzureError(
        error,
        'settle',
        `message ${decoded.envelope.id} on ${context.destination}/${context.group}`,
      );
    });
  };
  const { receiver } = context;
  return {
    envelope: decoded.envelope,
    deliveryAttempt: decoded.deliveryAttempt,
    receivedAt: new Date(),
    destination: context.destination,
    group: context.group,
    raw: { message, receiver },
    get settled() {
      return settled;
    },
    ack: () => once(() => completeInLane(receiver, message), true),
    retry: (delayMs: number) => {
      if (!settled && !(Number.isFinite(delayMs) && delayMs >= 0 && delayMs <= context.maxRetryDelayMs)) {
        // Rejected before anything happens: the delivery stays unsettled and settleable.
        return Promise.reject(
          new OmnibusError(
            ErrorCodes.DELAY_OUT_OF_RANGE,
            `Retry delay ${String(delayMs)} ms for message ${decoded.envelope.id} is outside 0…${String(context.maxRetryDelayMs)} ms (Azure Service Bus transport)`,
          ),
        );
      }
      return once(async () => {
        const delay = Math.round(delayMs);
        if (context.retryMode === 'in-place') {
          if (delay > 0) await context.wait(delay);
          await abandonInLane(receiver, message);
          return;
        }
        await context.sendCopy(
          toRetryCopy(message, decoded.deliveryAttempt + 1, context.subscription, delay),
        );
        await completeInLane(receiver, message);
      }, context.retryMode === 'scheduled-copy');
    },
    deadLetter: (reason: DeadLetterReason) =>
      once(
        () =>
          dispositionLane(receiver).run('other', () =>
            receiver.deadLetterMessage(message, {
              ...deadLetterWireHeaders({}, reason, {
                destination: context.destination,
                group: context.group,
              }),
              deadLetterReason: truncate(reason.code),
              deadLetterErrorDescription: truncate(reason.message),
            }),
          ),
        true,
      ),
    release: async () => {
      if (settled) return;
      settled = true;
      // On a closed link the abandon could only time out; the lock expires on its own.
      if (receivedOnClosedLink(message)) return;
      await settleWhileLinkOpen(
        message,
        abandonInLane(receiver, message),
        () => new Error('link closed'),
      ).catch(() => undefined);
    },
  };
}

function staleLinkError(
  decoded: DecodedMessage,
  context: AzureDeliveryContext,
  whileSettling: boolean,
): OmnibusError {
  const what = whileSettling
    ? 'the connection it was received on dropped while settling (the broker may not have applied it)'
    : 'the connection it was received on is gone';
  return new OmnibusError(
    ErrorCodes.SETTLEMENT_FAILED,
    `Azure Service Bus settle message ${decoded.envelope.id} on ${context.destination}/${context.group} failed: ${what}; Service Bus redelivers it when its lock expires`,
    { retriable: false },
  );
}

function truncate(text: string): string {
  return text.length <= MAX_DEAD_LETTER_FIELD ? text : `${text.slice(0, MAX_DEAD_LETTER_FIELD - 1)}…`;
}
