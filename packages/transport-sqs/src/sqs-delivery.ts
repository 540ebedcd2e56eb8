import type { Message } from '@aws-sdk/client-sqs';
import type { DeadLetterReason, Delivery, MessageEnvelope } from '@omnibus/core';

/** Native settlement operations a {@link SqsDelivery} delegates to (implemented per subscription). */
export interface DeliverySettler {
  /** Why `retry(delayMs)` cannot be honoured (the delivery then stays unsettled), or undefined. */
  retryProblem(delivery: SqsDelivery, delayMs: number): Error | undefined;
  ack(delivery: SqsDelivery): Promise<void>;
  retry(delivery: SqsDelivery, delayMs: number): Promise<void>;
  deadLetter(delivery: SqsDelivery, reason: DeadLetterReason): Promise<void>;
}

/** Lifecycle of a received message inside the adapter. */
export type SqsDeliveryState = 'held' | 'settling' | 'settled' | 'released';

/** Everything the subscription knows about a received message. */
export interface SqsDeliveryInit {
  readonly envelope: MessageEnvelope;
  readonly wireHeaders: Readonly<Record<string, string>>;
  readonly message: Message;
  readonly receiptHandle: string;
  readonly deliveryAttempt: number;
  readonly destination: string;
  readonly group: string;
  /** Ordering key (FIFO MessageGroupId), if any. */
  readonly key: string | undefined;
  /** Receive order within the subscription. */
  readonly sequence: number;
  readonly visibleUntil: number;
  /** Key of the message in the release ledger (queue URL + MessageId). */
  readonly ledgerKey: string;
}

/**
 * One received SQS message handed to the router. Settles at most once: the first of
 * ack/retry/deadLetter wins, later calls (and calls after the subscription released the
 * message on close) resolve without doing anything. A failed settlement rejects with
 * `SETTLEMENT_FAILED`; the message then reappears when its visibility lapses (never lost).
 */
export class SqsDelivery implements Delivery {
  readonly envelope: MessageEnvelope;
  readonly deliveryAttempt: number;
  readonly receivedAt = new Date();
  readonly destination: string;
  readonly group: string;
  /** The SQS `Message` as received. */
  readonly raw: Message;
  readonly receiptHandle: string;
  readonly wireHeaders: Readonly<Record<string, string>>;
  readonly key: string | undefined;
  readonly sequence: number;
  readonly ledgerKey: string;
  /** When the message becomes visible again unless extended (epoch ms). */
  visibleUntil: number;
  /** A visibility extension in flight, awaited before settling so it cannot override a retry delay. */
  extending: Promise<void> | undefined;
  state: SqsDeliveryState = 'held';
  readonly #settler: DeliverySettler;

  constructor(init: SqsDeliveryInit, settler: DeliverySettler) {
    this.envelope = init.envelope;
    this.deliveryAttempt = init.deliveryAttempt;
    this.destination = init.destination;
    this.group = init.group;
    this.raw = init.message;
    this.receiptHandle = init.receiptHandle;
    this.wireHeaders = init.wireHeaders;
    this.key = init.key;
    this.sequence = init.sequence;
    this.ledgerKey = init.ledgerKey;
    this.visibleUntil = init.visibleUntil;
    this.#settler = settler;
  }

  /** Delete the message (batched DeleteMessage). */
  ack(): Promise<void> {
    return this.#settle(() => this.#settler.ack(this));
  }

  /**
   * Make the message visible again after `delayMs` (ChangeMessageVisibility, rounded up to
   * seconds). A delay SQS cannot honour rejects with `DELAY_OUT_OF_RANGE` and leaves the
   * delivery unsettled (it is never shortened).
   */
  retry(delayMs: number): Promise<void> {
    if (this.state === 'held') {
      const problem = this.#settler.retryProblem(this, delayMs);
      if (problem !== undefined) return Promise.reject(problem);
    }
    return this.#settle(() => this.#settler.retry(this, delayMs));
  }

  /** Send a copy with the reason headers to the dead-letter queue, then delete the original. */
  deadLetter(reason: DeadLetterReason): Promise<void> {
    return this.#settle(() => this.#settler.deadLetter(this, reason));
  }

  async #settle(operation: () => Promise<void>): Promise<void> {
    if (this.state !== 'held') return;
    this.state = 'settling';
    try {
      await this.extending?.catch(() => undefined);
      await operation();
    } finally {
      this.state = 'settled';
    }
  }
}
