import type { Channel, ConsumeMessage } from 'amqplib';
import { ErrorCodes, OmnibusError, chooseDelayTier } from '@omnibus/core';
import type { DeadLetterReason, Delivery, SubscriptionSpec } from '@omnibus/core';
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

/** How the router settled one attempt. `local-retry` is used by ordered subscriptions only. */
export type SettlementOutcome =
  { readonly kind: 'settled' } | { readonly kind: 'local-retry'; readonly delayMs: number };

/** What {@link RabbitMqSettlement} needs. */
export interface RabbitMqSettlementContext {
  readonly spec: SubscriptionSpec;
  readonly options: RabbitMqTransportOptions;
  readonly names: RabbitMqNames;
  readonly publisher: RabbitMqPublishPort;
}

/**
 * Builds the {@link Delivery} objects of one subscription and settles them natively:
 *
 * - `ack`: `basic.ack` on the channel the message came from, written at the end of the current
 *   event-loop turn together with the other acks of that turn (one `multiple` ack for a
 *   contiguous run of settled delivery tags, see {@link AckCoalescer}).
 * - `retry(d)`: a copy carrying the next attempt number is published (confirmed) to the wait
 *   queue of the smallest delay tier ≥ d — or straight back to the group queue for d ≤ 0 —
 *   then the original is acked. Ordered subscriptions retry in place instead (the outcome is
 *   `local-retry` and the subscription re-runs the handler after the delay, keeping the key
 *   blocked). A delay above the largest tier rejects with `DELAY_OUT_OF_RANGE` and leaves the
 *   delivery unsettled.
 * - `deadLetter(r)`: a copy with reason headers is published (confirmed) to the group's
 *   dead-letter queue, then the original is acked.
 *
 * Each delivery settles once; later calls are ignored. When the message's channel is gone, a
 * settlement rejects with `SETTLEMENT_FAILED` (never throws synchronously, never crashes): the
 * broker redelivers the message. When a copy cannot be published, the original is returned to
 * its queue (after at most the requested delay, bounded to 5 s) and the call rejects.
 */
export class RabbitMqSettlement {
  readonly #context: RabbitMqSettlementContext;
  readonly #queue: string;
  readonly #timers = new Set<NodeJS.Timeout>();

  constructor(context: RabbitMqSettlementContext) {
    this.#context = context;
    this.#queue = context.names.groupQueue(context.spec.destination, context.spec.group);
  }

  /** A delivery for one attempt of `item`; `settle` receives the outcome synchronously on the first settlement. */
  delivery(item: ReceivedDelivery, attempt: number, settle: (outcome: SettlementOutcome) => void): Delivery {
    const { spec } = this.#context;
    let settled = false;
    const once = (): boolean => {
      if (settled) return false;
      settled = true;
      return true;
    };
    return {
      envelope: item.received.envelope,
      deliveryAttempt: attempt,
      receivedAt: new Date(),
      destination: spec.destination,
      group: spec.group,
      raw: item.message,
      ack: () => {
        if (!once()) return Promise.resolve();
        settle({ kind: 'settled' });
        // A throw inside the executor becomes the rejection (typed, never synchronous).
        return new Promise<void>((resolve) => {
          this.#ack(item, 'ack');
          resolve();
        });
      },
      retry: async (delayMs: number) => {
        this.#checkDelay(delayMs);
        if (!once()) return;
        if (spec.ordered) {
          this.#ensureOpen(item, 'retry');
          settle({ kind: 'local-retry', delayMs: Math.max(0, delayMs) });
          return;
        }
        settle({ kind: 'settled' });
        await this.#republish(item, this.#retryRequest(item, attempt, delayMs), 'retry', delayMs);
      },
      deadLetter: async (reason: DeadLetterReason) => {
        if (!once()) return;
        settle({ kind: 'settled' });
        await this.#republish(item, this.#deadLetterRequest(item, reason), 'dead-letter', 0);
      },
    };
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

  /** A retry delay above the largest tier is refused (never shortened). */
  #checkDelay(delayMs: number): void {
    const tiers = this.#context.options.delayTiersMs;
    const largest = tiers[tiers.length - 1] ?? 0;
    if (delayMs > largest) {
      throw new OmnibusError(
        ErrorCodes.DELAY_OUT_OF_RANGE,
        `RabbitMQ: retry delay of ${String(delayMs)} ms exceeds the largest delay tier (${String(largest)} ms)`,
      );
    }
  }

  #retryRequest(item: ReceivedDelivery, attempt: number, delayMs: number): PublishRequest {
    const { names, options, spec } = this.#context;
    const copy = retryCopy(item.message, item.received.envelope.id, attempt + 1);
    if (delayMs <= 0)
      return { ...copy, exchange: '', routingKey: this.#queue, destination: spec.destination };
    const tier = chooseDelayTier(delayMs, options.delayTiersMs) as number; // range checked by #checkDelay
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
    if (!item.consumer.open)
      throw this.#error(
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
