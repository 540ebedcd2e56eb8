import type { Message } from '@aws-sdk/client-sqs';
import type { SettleOnceDelivery } from '@omnibus/core/adapter-kit';

/**
 * What the subscription keeps about one received SQS message (the native half of its
 * {@link SqsDelivery}).
 */
export interface SqsHeld {
  /** The SQS `Message` as received (what `Delivery.raw` exposes). */
  readonly message: Message;
  readonly receiptHandle: string;
  readonly wireHeaders: Readonly<Record<string, string>>;
  /** Ordering key (FIFO MessageGroupId, else the partition key), if any. */
  readonly key: string | undefined;
  /** Receive order within the subscription. */
  readonly sequence: number;
  /** Key of the message in the release ledger (queue URL + MessageId). */
  readonly ledgerKey: string;
  /** When the message becomes visible again unless extended (epoch ms). */
  visibleUntil: number;
  /** A visibility extension in flight, awaited before settling so it cannot override a retry delay. */
  extending: Promise<void> | undefined;
}

/**
 * One received SQS message handed to the router: the kit's settle-once delivery over
 * {@link SqsHeld}. The first of ack/retry/deadLetter wins and later calls resolve without doing
 * anything; after the subscription gave the message back (`release()`: on close, or when the
 * handler returned without settling) every call rejects with `SETTLEMENT_FAILED` and SQS
 * redelivers it. A failed settlement rejects with `SETTLEMENT_FAILED`; the message then
 * reappears when its visibility lapses (never lost).
 */
export type SqsDelivery = SettleOnceDelivery<SqsHeld>;
