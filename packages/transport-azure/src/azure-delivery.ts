import { ErrorCodes, OmnibusError, deadLetterWireHeaders } from '@omnibus/core';
import type { DeadLetterReason, Delivery } from '@omnibus/core';
import type { ServiceBusMessage, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { mapAzureError } from './azure-error-mapper.js';
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
 * redelivers the message).
 */
export function createAzureDelivery(
  message: ServiceBusReceivedMessage,
  decoded: DecodedMessage,
  context: AzureDeliveryContext,
): AzureDelivery {
  let settled = false;
  const once = (action: () => Promise<void>): Promise<void> => {
    if (settled) return Promise.resolve();
    settled = true;
    return action().catch((error: unknown) => {
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
    ack: () => once(() => receiver.completeMessage(message)),
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
          await receiver.abandonMessage(message);
          return;
        }
        await context.sendCopy(
          toRetryCopy(message, decoded.deliveryAttempt + 1, context.subscription, delay),
        );
        await receiver.completeMessage(message);
      });
    },
    deadLetter: (reason: DeadLetterReason) =>
      once(() =>
        receiver.deadLetterMessage(message, {
          ...deadLetterWireHeaders({}, reason, { destination: context.destination, group: context.group }),
          deadLetterReason: truncate(reason.code),
          deadLetterErrorDescription: truncate(reason.message),
        }),
      ),
    release: async () => {
      if (settled) return;
      settled = true;
      await receiver.abandonMessage(message).catch(() => undefined);
    },
  };
}

function truncate(text: string): string {
  return text.length <= MAX_DEAD_LETTER_FIELD ? text : `${text.slice(0, MAX_DEAD_LETTER_FIELD - 1)}…`;
}
