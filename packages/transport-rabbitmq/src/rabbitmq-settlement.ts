import type { Channel, ConsumeMessage } from 'amqplib';
import { chooseDelayTier } from '@omnibus/core';
import type { DeadLetterReason, OmnibusError, SubscriptionSpec } from '@omnibus/core';
import { SettleOnceDelivery } from '@omnibus/core/adapter-kit';
import type { SettlementPort } from '@omnibus/core/adapter-kit';
import type { AckCoalescer } from './ack-coalescer.js';
import { settlementError } from './rabbitmq-error-mapper.js';
import { deadLetterCopy, retryCopy } from './rabbitmq-message-mapper.js';
import type { ReceivedMessage } from './rabbitmq-message-mapper.js';
import type { RabbitMqTransportOptions } from './rabbitmq-options.js';
import type { PublishRequest } from './rabbitmq-publisher.js';
import type { RabbitMqPublishPort } from './rabbitmq-delay-tiers.js';
import type { RabbitMqNames } from './rabbitmq-topology.js';

/** One consumer channel; `open` turns false when the channel closes for any reason. */
export interface ConsumerChannel {
  readonly channel: Channel;
  /** Writes this channel's acks, coalesced per event-loop turn. */
  readonly acks: AckCoalescer;
  open: boolean;
  started: boolean;
  tag: string | undefined;
}

/** One received AMQP message, bound to the channel it came from (delivery tags are per channel). */
export interface ReceivedDelivery {
  readonly message: ConsumeMessage;
  readonly consumer: ConsumerChannel;
  readonly received: ReceivedMessage;
}

const RESOLVED: Promise<void> = Promise.resolve();

/** What {@link RabbitMqSettlement} needs. */
export interface RabbitMqSettlementContext {
  readonly spec: SubscriptionSpec;
  readonly options: RabbitMqTransportOptions;
  readonly names: RabbitMqNames;
  readonly publisher: RabbitMqPublishPort;
}

/**
 * Settles the deliveries of one subscription natively; the deliveries are the adapter kit's
 * {@link SettleOnceDelivery} (settle once, retry-delay range check, left-unsettled detection):
 *
 * - `ack`: `basic.ack` on the channel the message came from, written at the end of the current
 *   event-loop turn together with the other acks of that turn (one `multiple` ack for a
 *   contiguous run of settled delivery tags, see {@link AckCoalescer}).
 * - `retry(d)`: a copy carrying the next attempt number is published (confirmed) to the wait
 *   queue of the smallest delay tier ≥ d — or straight back to the group queue for d ≤ 0 —
 *   then the original is acked. Ordered subscriptions retry in place instead (the settlement is
 *   `retry-in-place` and the subscription re-runs the handler after the delay, keeping the key
 *   blocked, see `retryInPlace`). A delay above the largest tier rejects with
 *   `DELAY_OUT_OF_RANGE` and leaves the delivery unsettled.
 * - `deadLetter(r)`: a copy with reason headers is published (confirmed) to the group's
 *   dead-letter queue, then the original is acked.
 *
 * When the message's channel is gone, a
 * settlement rejects with `SETTLEMENT_FAILED` (never throws synchronously, never crashes): the
 * broker redelivers the message. When a copy cannot be published, the original is returned to
 * its queue (after at most the requested delay, bounded to 5 s) and the call rejects.
 */
export class RabbitMqSettlement implements SettlementPort<ReceivedDelivery> {
  readonly transportName = 'RabbitMQ';
  readonly destination: string;
  readonly group: string;
  readonly maxRetryDelayMs: number;
  readonly retryInPlace: boolean;
  readonly #context: RabbitMqSettlementContext;
  readonly #queue: string;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(context: RabbitMqSettlementContext) {
    const { spec, options } = context;
    this.#context = context;
    this.destination = spec.destination;
    this.group = spec.group;
    this.maxRetryDelayMs = options.delayTiersMs[options.delayTiersMs.length - 1] ?? 0;
    this.retryInPlace = spec.ordered;
    this.#queue = context.names.groupQueue(spec.destination, spec.group);
  }

  /** A delivery for one attempt of `item`. */
  delivery(item: ReceivedDelivery, attempt: number): SettleOnceDelivery<ReceivedDelivery> {
    return new SettleOnceDelivery(this, item, item.received.envelope, attempt);
  }

  /** `basic.ack`, coalesced per event-loop turn; rejects with `SETTLEMENT_FAILED` when the channel is gone. */
  ack(item: ReceivedDelivery): Promise<void> {
    this.#ack(item, 'ack');
    return RESOLVED;
  }

  /** Publish the retry copy (confirmed) to its delay tier, then ack the original. */
  retry(
    item: ReceivedDelivery,
    delayMs: number,
    delivery: SettleOnceDelivery<ReceivedDelivery>,
  ): Promise<void> {
    return this.#republish(
      item,
      this.#retryRequest(item, delivery.deliveryAttempt, delayMs),
      'retry',
      delayMs,
    );
  }

  /** Publish the dead-letter copy (confirmed), then ack the original. */
  deadLetter(item: ReceivedDelivery, reason: DeadLetterReason): Promise<void> {
    return this.#republish(item, this.#deadLetterRequest(item, reason), 'dead-letter', 0);
  }

  /** An in-place retry needs the message's channel: once it is gone the broker redelivers it. */
  retryProblem(item: ReceivedDelivery): Error | undefined {
    return this.retryInPlace && !item.consumer.open ? this.#closedChannelError('retry') : undefined;
  }

  /** The AMQP message, as amqplib delivered it. */
  raw(item: ReceivedDelivery): ConsumeMessage {
    return item.message;
  }

  /** Return a message to its queue (`basic.nack`, requeue). A no-op when its channel is gone. */
  release(item: ReceivedDelivery): void {
    if (!item.consumer.open) return;
    try {
      item.consumer.acks.nack(item.message);
    } catch {
      // channel closed in between: the broker requeues it anyway
    }
  }

  /** Cancel pending delayed releases (closing: the channel close requeues those messages). */
  cancelTimers(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #retryRequest(item: ReceivedDelivery, attempt: number, delayMs: number): PublishRequest {
    const { names, options, spec } = this.#context;
    const copy = retryCopy(item.message, item.received.envelope.id, attempt + 1);
    if (delayMs <= 0)
      return { ...copy, exchange: '', routingKey: this.#queue, destination: spec.destination };
    const tier = chooseDelayTier(delayMs, options.delayTiersMs) as number; // range checked by the delivery
    return {
      ...copy,
      exchange: names.delayExchange(tier),
      routingKey: this.#queue,
      destination: spec.destination,
    };
  }

  #deadLetterRequest(item: ReceivedDelivery, reason: DeadLetterReason): PublishRequest {
    const { names, spec } = this.#context;
    const copy = deadLetterCopy(item.message, item.received.envelope.id, reason, {
      destination: spec.destination,
      group: spec.group,
    });
    return {
      ...copy,
      exchange: '',
      routingKey: names.deadLetterQueue(spec.destination, spec.group),
      destination: spec.destination,
    };
  }

  /** Make the copy durable, then ack the original. On failure return the original to its queue. */
  async #republish(
    item: ReceivedDelivery,
    request: PublishRequest,
    action: string,
    delayMs: number,
  ): Promise<void> {
    this.#ensureOpen(item, action);
    try {
      await this.#context.publisher.publish([request], this.#context.options.publishTimeoutMs);
    } catch (error) {
      this.#releaseLater(item, Math.min(delayMs, 5_000));
      throw this.#error(error, action);
    }
    this.#ack(item, action);
  }

  /** Delivery tags belong to their channel: once it is gone nothing can settle the message. */
  #ensureOpen(item: ReceivedDelivery, action: string): void {
    if (!item.consumer.open) throw this.#closedChannelError(action);
  }

  #closedChannelError(action: string): OmnibusError {
    return this.#error(
      new Error('the channel it was received on is closed; the broker redelivers it'),
      action,
    );
  }

  #ack(item: ReceivedDelivery, action: string): void {
    this.#ensureOpen(item, action);
    try {
      item.consumer.acks.ack(item.message);
    } catch (error) {
      throw this.#error(error, action);
    }
  }

  #releaseLater(item: ReceivedDelivery, delayMs: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.release(item);
    }, delayMs);
    this.#timers.add(timer);
  }

  #error(error: unknown, action: string): OmnibusError {
    return settlementError(error, action, this.#context.spec.destination, this.#context.spec.group);
  }
}
