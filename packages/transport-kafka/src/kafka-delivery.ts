import { ErrorCodes, OmnibusError, envelopeFromWire } from '@omnibus/core';
import type { DeadLetterReason, Delivery, MessageEnvelope } from '@omnibus/core';
import type { ReceivedRecord } from './kafka-client-port.js';
import type { PartitionWatermark } from './partition-watermark.js';

/** A record in the subscription's custody, from intake until it is settled. */
export interface CustodyItem {
  readonly record: ReceivedRecord;
  readonly watermark: PartitionWatermark;
  /** The attempt carried in the record's headers (1 on the main topic). */
  readonly headerAttempt: number;
  /** Attempt of the first delivery in this process (header or committed metadata). */
  readonly firstAttempt: number;
}

/**
 * What became of one delivery attempt:
 * - `settled`: acked, moved to a retry topic or dead-lettered; the offset may be committed.
 * - `retry-in-place`: ordered retry; run it again here after `delayMs` with the next attempt.
 * - `released`: settling failed (broker unreachable); run it again after `delayMs`, same attempt.
 */
export type DeliveryOutcome =
  | { readonly kind: 'settled' }
  | { readonly kind: 'retry-in-place'; readonly delayMs: number }
  | { readonly kind: 'released'; readonly delayMs: number; readonly error: unknown };

/** Implements the three settlements natively on Kafka (see `record-settler.ts`). */
export interface RecordSettler {
  ack(item: CustodyItem): Promise<void>;
  retry(item: CustodyItem, attempt: number, delayMs: number): Promise<DeliveryOutcome>;
  deadLetter(item: CustodyItem, attempt: number, reason: DeadLetterReason): Promise<void>;
}

/** How long a delivery whose settlement failed waits before it is run again. */
export const RELEASE_DELAY_MS = 1000;

/**
 * One delivery attempt of a Kafka record, as handed to the router. Settles at most once: a second
 * settle call is ignored (resolves at once). When a retry or dead-letter publish fails, the call
 * rejects and the record is released (run again after {@link RELEASE_DELAY_MS}, same attempt),
 * so nothing is lost.
 */
export class KafkaDelivery implements Delivery {
  readonly envelope: MessageEnvelope;
  readonly deliveryAttempt: number;
  readonly receivedAt = new Date();
  readonly destination: string;
  readonly group: string;
  readonly raw: ReceivedRecord;
  readonly #item: CustodyItem;
  readonly #settler: RecordSettler;
  #settlement: Promise<DeliveryOutcome> | undefined;

  readonly #maxRetryDelayMs: number;

  constructor(
    item: CustodyItem,
    attempt: number,
    origin: { readonly destination: string; readonly group: string; readonly maxRetryDelayMs: number },
    settler: RecordSettler,
  ) {
    this.#maxRetryDelayMs = origin.maxRetryDelayMs;
    const { record } = item;
    this.#item = item;
    this.#settler = settler;
    this.raw = record;
    this.deliveryAttempt = attempt;
    this.destination = origin.destination;
    this.group = origin.group;
    this.envelope = envelopeFromWire({
      headers: record.headers,
      payload: record.value,
      fallbackId: `${record.topic}/${String(record.partition)}/${record.offset}`,
      fallbackTime: record.timestamp,
    });
  }

  /** The outcome once a settlement was requested (and finished), else undefined. */
  outcome(): Promise<DeliveryOutcome | undefined> {
    return this.#settlement === undefined
      ? Promise.resolve(undefined)
      : this.#settlement.catch(() => undefined);
  }

  ack(): Promise<void> {
    if (this.#settlement !== undefined) return Promise.resolve();
    this.#settlement = Promise.resolve({ kind: 'settled' });
    return this.#settler.ack(this.#item);
  }

  /**
   * Redeliver after `delayMs`. A delay above the transport's `maxRetryDelayMs` rejects with
   * `DELAY_OUT_OF_RANGE` and leaves the delivery unsettled (it can still be settled).
   */
  async retry(delayMs: number): Promise<void> {
    if (this.#settlement !== undefined) return;
    if (delayMs > this.#maxRetryDelayMs) {
      throw new OmnibusError(
        ErrorCodes.DELAY_OUT_OF_RANGE,
        `Retry delay ${String(delayMs)} ms exceeds the largest Kafka retry tier (${String(this.#maxRetryDelayMs)} ms)`,
      );
    }
    this.#settlement = this.#guard(
      this.#settler.retry(this.#item, this.deliveryAttempt, Math.max(0, delayMs)),
    );
    await this.#settlement.then(rethrowReleased);
  }

  async deadLetter(reason: DeadLetterReason): Promise<void> {
    if (this.#settlement !== undefined) return;
    this.#settlement = this.#guard(
      this.#settler
        .deadLetter(this.#item, this.deliveryAttempt, reason)
        .then(() => ({ kind: 'settled' }) as const),
    );
    await this.#settlement.then(rethrowReleased);
  }

  /** A failed settlement becomes a `released` outcome carrying the error. */
  #guard(work: Promise<DeliveryOutcome>): Promise<DeliveryOutcome> {
    return work.catch((error: unknown): DeliveryOutcome => ({
      kind: 'released',
      delayMs: RELEASE_DELAY_MS,
      error,
    }));
  }
}

function rethrowReleased(outcome: DeliveryOutcome): void {
  if (outcome.kind === 'released') throw outcome.error;
}
