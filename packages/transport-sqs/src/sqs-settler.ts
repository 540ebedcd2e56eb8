import {
  ChangeMessageVisibilityBatchCommand,
  ChangeMessageVisibilityCommand,
  DeleteMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { deadLetterWireHeaders, ErrorCodes, OmnibusError, type DeadLetterReason } from '@omnibus/core';
import type { SettlementPort } from '@omnibus/core/adapter-kit';
import { MAX_RETRY_DELAY_MS } from './sqs-capabilities.js';
import type { SqsDelivery, SqsHeld } from './sqs-delivery.js';
import { batchEntryError, toOmnibusError } from './sqs-error-mapper.js';
import { packAttributes } from './sqs-message-codec.js';
import { toFifoId } from './sqs-naming.js';
import { RequestBatcher } from './request-batcher.js';
import { withTransientRetry } from './transient-retry.js';

/** SQS caps a message's visibility at 12 hours from its first receive in this attempt. */
const MAX_VISIBILITY_SECONDS = 43200;
/** Dead-letter reasons longer than this are cut, so the copy still fits the message limit. */
const MAX_REASON_CHARS = 1000;

/** Where one subscription's messages live and go. */
export interface SettlerTarget {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly fifo: boolean;
  /** How long a settlement call failing with a transient error is retried before it rejects. */
  readonly settlementRetryMs: number;
}

/**
 * The native settlement of one subscription's queue, driven by the kit's `SettleOnceDelivery`
 * (settle once, the retry-delay range, a rejection after the message was given back). Each
 * operation first awaits a visibility extension in flight, so it cannot undo a retry delay:
 * - ack → DeleteMessageBatch (coalesced, ≤ 10 per call);
 * - retry(delay) → ChangeMessageVisibility(delay rounded up to seconds; the next receive
 *   increments ApproximateReceiveCount, which is the delivery attempt);
 * - deadLetter(reason) → SendMessage of the original body and headers plus the reason headers
 *   to the dead-letter queue, and only after SQS accepted it, delete the original;
 * - release/extend → ChangeMessageVisibilityBatch.
 * Transient failures (network, throttling, 5xx: a restarting server) are retried for
 * `settlementRetryMs`; then, like any other failure, they reject with `SETTLEMENT_FAILED`. The
 * message is never deleted unless its replacement (dead-letter copy) is durable.
 */
export class SqsSettler implements SettlementPort<SqsHeld> {
  readonly transportName = 'sqs';
  readonly destination: string;
  readonly group: string;
  readonly maxRetryDelayMs = MAX_RETRY_DELAY_MS;
  /** SQS redelivers after a visibility delay, ordered (FIFO) groups included. */
  readonly retryInPlace = false;
  readonly #sqs: SQSClient;
  readonly #target: SettlerTarget;
  readonly #deletes: RequestBatcher<SqsDelivery>;
  readonly #onRetried: (delivery: SqsDelivery) => void;
  readonly #onRemoved: (delivery: SqsDelivery) => void;
  readonly #onDeadLettered: ((delivery: SqsDelivery) => void) | undefined;

  constructor(
    sqs: SQSClient,
    subscription: { readonly destination: string; readonly group: string },
    target: SettlerTarget,
    hooks: {
      onRetried: (delivery: SqsDelivery) => void;
      onRemoved: (delivery: SqsDelivery) => void;
      /** The dead-letter copy was accepted (the original is deleted next). */
      onDeadLettered?: (delivery: SqsDelivery) => void;
    },
  ) {
    this.#sqs = sqs;
    this.destination = subscription.destination;
    this.group = subscription.group;
    this.#target = target;
    this.#onRetried = hooks.onRetried;
    this.#onRemoved = hooks.onRemoved;
    this.#onDeadLettered = hooks.onDeadLettered;
    this.#deletes = new RequestBatcher((batch) => this.#deleteBatch(batch));
  }

  /** What `Delivery.raw` exposes: the SQS `Message`. */
  raw(held: SqsHeld): unknown {
    return held.message;
  }

  /** See {@link SqsSettler}. */
  async ack(held: SqsHeld, delivery: SqsDelivery): Promise<void> {
    await settled(held.extending);
    await this.#deletes.add(delivery);
    this.#onRemoved(delivery);
  }

  /**
   * A retry delay is out of range when it exceeds `maxRetryDelayMs`, or when it would push the
   * message's visibility past SQS's 12 hours counted from this receive.
   */
  retryProblem(_held: SqsHeld, delayMs: number, delivery: SqsDelivery): Error | undefined {
    const seconds = retrySeconds(delayMs);
    const elapsed = Math.ceil((Date.now() - delivery.receivedAt.getTime()) / 1000);
    if (delayMs > MAX_RETRY_DELAY_MS || seconds > MAX_VISIBILITY_SECONDS - elapsed) {
      return new OmnibusError(
        ErrorCodes.DELAY_OUT_OF_RANGE,
        `Retry delay ${String(delayMs)} ms for message ${delivery.envelope.id} is out of range: SQS allows at most ${String(MAX_RETRY_DELAY_MS)} ms, and 12 h of visibility from the receive (${String(elapsed)} s used)`,
      );
    }
    return undefined;
  }

  /** See {@link SqsSettler}. */
  async retry(held: SqsHeld, delayMs: number, delivery: SqsDelivery): Promise<void> {
    const seconds = retrySeconds(delayMs);
    await settled(held.extending);
    try {
      await this.#retrying(() =>
        this.#sqs.send(
          new ChangeMessageVisibilityCommand({
            QueueUrl: this.#target.queueUrl,
            ReceiptHandle: held.receiptHandle,
            VisibilityTimeout: seconds,
          }),
        ),
      );
    } catch (error) {
      throw toOmnibusError(
        error,
        ErrorCodes.SETTLEMENT_FAILED,
        `Retrying message ${delivery.envelope.id} (ChangeMessageVisibility)`,
      );
    }
    this.#onRetried(delivery);
  }

  /** See {@link SqsSettler}. */
  async deadLetter(held: SqsHeld, reason: DeadLetterReason, delivery: SqsDelivery): Promise<void> {
    await settled(held.extending);
    const message =
      reason.message.length > MAX_REASON_CHARS
        ? `${reason.message.slice(0, MAX_REASON_CHARS)}…`
        : reason.message;
    const headers = deadLetterWireHeaders(
      held.wireHeaders,
      { ...reason, message },
      { destination: delivery.destination, group: delivery.group },
    );
    const original = held.message;
    const messageId = original.MessageId ?? delivery.envelope.id;
    try {
      await this.#retrying(() =>
        this.#sqs.send(
          new SendMessageCommand({
            QueueUrl: this.#target.deadLetterQueueUrl,
            MessageBody: original.Body ?? '',
            MessageAttributes: packAttributes(headers),
            ...(this.#target.fifo
              ? {
                  MessageGroupId: original.Attributes?.MessageGroupId ?? toFifoId(delivery.envelope.id),
                  MessageDeduplicationId: toFifoId(messageId),
                }
              : {}),
          }),
        ),
      );
    } catch (error) {
      throw toOmnibusError(
        error,
        ErrorCodes.SETTLEMENT_FAILED,
        `Dead-lettering message ${delivery.envelope.id} (SendMessage to the dead-letter queue)`,
      );
    }
    this.#onDeadLettered?.(delivery);
    await this.#deletes.add(delivery);
    this.#onRemoved(delivery);
  }

  /**
   * Set the visibility of several messages (0 = release now). Resolves with the deliveries
   * SQS accepted the change for; never rejects (a failed change only means the message keeps
   * its current visibility, which is safe).
   */
  async changeVisibility(deliveries: readonly SqsDelivery[], seconds: number): Promise<SqsDelivery[]> {
    const done: SqsDelivery[] = [];
    for (let i = 0; i < deliveries.length; i += 10) {
      const batch = deliveries.slice(i, i + 10);
      try {
        const out = await this.#sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.#target.queueUrl,
            Entries: batch.map((d, j) => ({
              Id: `v${String(j)}`,
              ReceiptHandle: d.native.receiptHandle,
              VisibilityTimeout: seconds,
            })),
          }),
        );
        const failed = new Set((out.Failed ?? []).map((f) => f.Id));
        batch.forEach((d, j) => {
          if (!failed.has(`v${String(j)}`)) done.push(d);
        });
      } catch {
        // keep the current visibility: the message reappears when it lapses
      }
    }
    return done;
  }

  #retrying<T>(operation: () => Promise<T>): Promise<T> {
    return withTransientRetry(operation, this.#target.settlementRetryMs);
  }

  async #deleteBatch(batch: readonly SqsDelivery[]): Promise<(Error | undefined)[]> {
    try {
      const out = await this.#retrying(() =>
        this.#sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.#target.queueUrl,
            Entries: batch.map((d, i) => ({ Id: `d${String(i)}`, ReceiptHandle: d.native.receiptHandle })),
          }),
        ),
      );
      const failed = new Map((out.Failed ?? []).map((f) => [f.Id, f]));
      return batch.map((d, i) => {
        const entry = failed.get(`d${String(i)}`);
        return entry === undefined
          ? undefined
          : batchEntryError(entry, ErrorCodes.SETTLEMENT_FAILED, `Deleting message ${d.envelope.id}`);
      });
    } catch (error) {
      throw toOmnibusError(error, ErrorCodes.SETTLEMENT_FAILED, 'Deleting messages (DeleteMessageBatch)');
    }
  }
}

/** Waits for a visibility extension in flight (its failure only means the visibility stayed). */
async function settled(extending: Promise<void> | undefined): Promise<void> {
  await extending?.catch(() => undefined);
}

/** Visibility seconds for a retry delay: rounded up, so never sooner than asked. */
function retrySeconds(delayMs: number): number {
  return Number.isFinite(delayMs) && delayMs > 0 ? Math.ceil(delayMs / 1000) : 0;
}
