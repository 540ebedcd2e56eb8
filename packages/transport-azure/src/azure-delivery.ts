import { ErrorCodes, OmnibusError, deadLetterWireHeaders } from '@omnibus/core';
import type { DeadLetterReason } from '@omnibus/core';
import type { SettleOnceDelivery, SettlementPort } from '@omnibus/core/adapter-kit';
import type { ServiceBusMessage, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { mapAzureError } from './azure-error-mapper.js';
import { abandonInLane, completeInLane, dispositionLane } from './consumers/disposition-lane.js';
import { receivedOnClosedLink, settleWhileLinkOpen } from './consumers/receive-link-state.js';
import { toRetryCopy } from './message-mapper.js';

/** Service Bus limit on the dead-letter reason and description fields. */
const MAX_DEAD_LETTER_FIELD = 4096;

/** One peek-locked message and the receiver it came from (what `Delivery.raw` exposes). */
export interface AzureHeld {
  readonly message: ServiceBusReceivedMessage;
  readonly receiver: ServiceBusReceiver;
}

/**
 * One peek-locked Service Bus message handed to the router: the kit's settle-once delivery
 * over {@link AzureHeld}, settled by {@link AzureSettlement}.
 */
export type AzureDelivery = SettleOnceDelivery<AzureHeld>;

/** Where a subscription's deliveries settle. */
export interface AzureSettlementContext {
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
  readonly confirmRemoved?: (held: AzureHeld) => Promise<boolean>;
}

/**
 * The native settlement of one subscription, driven by the kit's `SettleOnceDelivery` (settle
 * once, the retry-delay range, a rejection after the consumer gave the message back):
 * Every SDK settlement goes through the receiver's disposition lane (see `disposition-lane.ts`).
 * `ack` → complete; `retry` → scheduled copy then complete (unordered; may duplicate, never
 * loses) or delay then abandon within the session lock (ordered; the broker's delivery count
 * carries the attempt); `deadLetter` → the native dead-letter sub-queue with
 * `DeadLetterReason` = code, `DeadLetterErrorDescription` = message and the Omnibus
 * `omnibus-dead-letter-*` properties. Failures reject with `SETTLEMENT_FAILED` (a lost lock means
 * the broker redelivers the message). A message whose link is gone (the connection dropped after
 * it was received) is not settled at all: the call rejects at once with `SETTLEMENT_FAILED`, no
 * retry copy is sent, and the broker redelivers the message when its lock expires (see
 * {@link receivedOnClosedLink}). When the link closes while a settlement is pending, a complete
 * or dead-letter resolves if `confirmRemoved` proves the broker applied it, and otherwise
 * rejects the same way, at once.
 */
export class AzureSettlement implements SettlementPort<AzureHeld> {
  readonly transportName = 'Azure Service Bus';
  readonly destination: string;
  readonly group: string;
  readonly maxRetryDelayMs: number;
  /** Ordered retries wait inside {@link retry} (the session stays locked), then abandon. */
  readonly retryInPlace = false;
  readonly #context: AzureSettlementContext;

  constructor(context: AzureSettlementContext) {
    this.#context = context;
    this.destination = context.destination;
    this.group = context.group;
    this.maxRetryDelayMs = context.maxRetryDelayMs;
  }

  /** See {@link AzureSettlement}. */
  ack(held: AzureHeld, delivery: AzureDelivery): Promise<void> {
    return this.#settle(held, delivery, true, () => completeInLane(held.receiver, held.message));
  }

  /** See {@link AzureSettlement}. */
  retry(held: AzureHeld, delayMs: number, delivery: AzureDelivery): Promise<void> {
    const context = this.#context;
    const delay = Math.round(delayMs);
    if (context.retryMode === 'in-place') {
      return this.#settle(held, delivery, false, async () => {
        if (delay > 0) await context.wait(delay);
        await abandonInLane(held.receiver, held.message);
      });
    }
    return this.#settle(held, delivery, true, async () => {
      await context.sendCopy(
        toRetryCopy(held.message, delivery.deliveryAttempt + 1, context.subscription, delay),
      );
      await completeInLane(held.receiver, held.message);
    });
  }

  /** See {@link AzureSettlement}. */
  deadLetter(held: AzureHeld, reason: DeadLetterReason, delivery: AzureDelivery): Promise<void> {
    return this.#settle(held, delivery, true, () =>
      dispositionLane(held.receiver).run('other', () =>
        held.receiver.deadLetterMessage(held.message, {
          ...deadLetterWireHeaders({}, reason, { destination: this.destination, group: this.group }),
          deadLetterReason: truncate(reason.code),
          deadLetterErrorDescription: truncate(reason.message),
        }),
      ),
    );
  }

  /** `removes`: the settlement takes the message out of the subscription (complete, dead-letter). */
  async #settle(
    held: AzureHeld,
    delivery: AzureDelivery,
    removes: boolean,
    action: () => Promise<void>,
  ): Promise<void> {
    // Nothing was sent yet: the message is certainly not settled and comes back after its lock.
    if (receivedOnClosedLink(held.message)) throw this.#staleLinkError(delivery, false);
    const cutOff = new Error('link closed while settling');
    try {
      await settleWhileLinkOpen(held.message, action(), () => cutOff);
    } catch (error) {
      if (error === cutOff) {
        const confirm = this.#context.confirmRemoved;
        if (removes && confirm !== undefined && (await confirm(held))) return;
        throw this.#staleLinkError(delivery, true);
      }
      throw mapAzureError(
        error,
        'settle',
        `message ${delivery.envelope.id} on ${this.destination}/${this.group}`,
      );
    }
  }

  #staleLinkError(delivery: AzureDelivery, whileSettling: boolean): OmnibusError {
    const what = whileSettling
      ? 'the connection it was received on dropped while settling (the broker may not have applied it)'
      : 'the connection it was received on is gone';
    return new OmnibusError(
      ErrorCodes.SETTLEMENT_FAILED,
      `Azure Service Bus settle message ${delivery.envelope.id} on ${this.destination}/${this.group} failed: ${what}; Service Bus redelivers it when its lock expires`,
      { retriable: false },
    );
  }
}

function truncate(text: string): string {
  return text.length <= MAX_DEAD_LETTER_FIELD ? text : `${text.slice(0, MAX_DEAD_LETTER_FIELD - 1)}…`;
}
