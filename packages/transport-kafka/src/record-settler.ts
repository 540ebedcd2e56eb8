import { chooseDelayTier } from '@omnibus/core';
import type { DeadLetterReason } from '@omnibus/core';
import type { SettleOnceDelivery, SettlementPort } from '@omnibus/core/adapter-kit';
import type { OutgoingRecord, ReceivedRecord } from './kafka-client-port.js';
import type { CustodyItem } from './kafka-delivery.js';
import { mapKafkaError } from './kafka-error-mapper.js';
import { deadLetterHeaders, retryHeaders } from './kafka-headers.js';
import type { KafkaNaming } from './kafka-naming.js';

const RESOLVED: Promise<void> = Promise.resolve();

/** What {@link KafkaRecordSettler} needs. */
export interface KafkaRecordSettlerDeps {
  readonly destination: string;
  readonly group: string;
  readonly ordered: boolean;
  /** The transport's `maxRetryDelayMs`: longer retries are refused by the delivery. */
  readonly maxRetryDelayMs: number;
  readonly retryTiersMs: readonly number[];
  readonly naming: KafkaNaming;
  /**
   * Ask for a background commit of the settled prefixes (batched with other acks, retried until
   * accepted, the partition is revoked, or the subscription closed).
   */
  requestCommit(): void;
  /** Produce records (acks = all); resolves once the broker acknowledged them. */
  publish(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
}

/**
 * Settlement on Kafka for one subscription: the native half ({@link SettlementPort}) of core's
 * {@link SettleOnceDelivery}, which settles each delivery once, range-checks retry delays and
 * rejects settlements after the subscription released the delivery.
 * - ack: mark the offset settled and resolve; once it is inside the partition's settled prefix,
 *   a background commit (batched with other acks, a few ms later) moves the group's position
 *   past it. An ack behind a still unsettled earlier offset is committed with that earlier one.
 *   A crash before the commit lands redelivers the record (at-least-once, never lost). When the
 *   partition was revoked (rebalance, or the subscription left the group while draining)
 *   nothing can be committed any more: the partition's new owner may deliver the record again
 *   (the adapter declares `noDuplicatesWithoutFaults: false`).
 * - retry, ordered: never called (`retryInPlace`): nothing is committed; the subscription re-runs
 *   the record in place after the delay with the next attempt (core's `retryInPlace`).
 * - retry, unordered: produce a copy to the group's retry topic of the smallest tier ≥ delay
 *   (exact due time and attempt + 1 in headers), then settle the original: non-blocking.
 * - dead-letter: produce the original record plus reason headers to the group's dead-letter
 *   topic, then settle the original.
 * Copies are acknowledged by the broker before the original is settled (may duplicate, never
 * lose). Failures reject with a typed error and leave the record unsettled.
 */
export class KafkaRecordSettler implements SettlementPort<CustodyItem> {
  readonly transportName = 'kafka';
  readonly destination: string;
  readonly group: string;
  readonly maxRetryDelayMs: number;
  readonly retryInPlace: boolean;
  readonly #deps: KafkaRecordSettlerDeps;

  constructor(deps: KafkaRecordSettlerDeps) {
    this.#deps = deps;
    this.destination = deps.destination;
    this.group = deps.group;
    this.maxRetryDelayMs = deps.maxRetryDelayMs;
    this.retryInPlace = deps.ordered;
  }

  /** A delivery's `raw` is the fetched record. */
  raw(item: CustodyItem): ReceivedRecord {
    return item.record;
  }

  ack(item: CustodyItem): Promise<void> {
    return this.#settle(item);
  }

  async retry(item: CustodyItem, delayMs: number, delivery: SettleOnceDelivery<CustodyItem>): Promise<void> {
    const { record } = item;
    const attempt = delivery.deliveryAttempt;
    const tiers = this.#deps.retryTiersMs;
    const tier = chooseDelayTier(delayMs, tiers) ?? tiers[tiers.length - 1] ?? 0;
    const topic = this.#deps.naming.retryTopic(this.#deps.destination, this.#deps.group, tier);
    await this.#produce(topic, {
      ...(record.key === undefined ? {} : { key: record.key }),
      value: record.value,
      headers: retryHeaders(record, attempt + 1, Date.now() + delayMs),
    });
    await this.#settle(item);
  }

  async deadLetter(item: CustodyItem, reason: DeadLetterReason): Promise<void> {
    const { record } = item;
    const { destination, group } = this.#deps;
    await this.#produce(this.#deps.naming.deadLetterTopic(destination, group), {
      ...(record.key === undefined ? {} : { key: record.key }),
      value: record.value,
      headers: deadLetterHeaders(record, reason, { destination, group }),
    });
    await this.#settle(item);
  }

  async #produce(topic: string, record: OutgoingRecord): Promise<void> {
    try {
      await this.#deps.publish(topic, [record]);
    } catch (error) {
      throw mapKafkaError(error, 'settle', topic);
    }
  }

  #settle(item: CustodyItem): Promise<void> {
    const { watermark } = item;
    if (watermark.settle(item.offset) && !watermark.revoked) this.#deps.requestCommit();
    return RESOLVED;
  }
}
