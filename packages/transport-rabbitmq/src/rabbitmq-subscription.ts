import type { Channel, ConsumeMessage } from 'amqplib';
import { ErrorCodes, KeyedDispatcher, OmnibusError, chooseDelayTier } from '@omnibus/core';
import type { DeadLetterReason, Delivery, DeliveryHandler, Subscription, SubscriptionSpec } from '@omnibus/core';
import type { RabbitMqConnection } from './rabbitmq-connection.js';
import { settlementError, subscribeError } from './rabbitmq-error-mapper.js';
import { amqpToReceived, deadLetterCopy, retryCopy } from './rabbitmq-message-mapper.js';
import type { ReceivedMessage } from './rabbitmq-message-mapper.js';
import type { RabbitMqTransportOptions } from './rabbitmq-options.js';
import type { PublishRequest, RabbitMqPublisher } from './rabbitmq-publisher.js';
import type { RabbitMqNames } from './rabbitmq-topology.js';

/** What a subscription needs from its transport. */
export interface RabbitMqSubscriptionContext {
  readonly spec: SubscriptionSpec;
  readonly onDelivery: DeliveryHandler;
  readonly options: RabbitMqTransportOptions;
  readonly names: RabbitMqNames;
  readonly connection: RabbitMqConnection;
  readonly publisher: RabbitMqPublisher;
  /** Makes sure the group's queues exist (declares or verifies them); called before every consume. */
  readonly prepare: () => Promise<void>;
  /** Receives errors that cannot be thrown to a caller (a failed resume, a rejected handler). */
  readonly onError: (error: unknown) => void;
  /** Called once the subscription is closed, so the transport can forget it. */
  readonly onClosed: () => void;
}

/** One consumer channel; `open` turns false when the channel closes for any reason. */
interface Consumer {
  readonly channel: Channel;
  open: boolean;
  started: boolean;
  tag: string | undefined;
}

/** One received AMQP message, bound to the channel it came from (delivery tags are per channel). */
interface Received {
  readonly message: ConsumeMessage;
  readonly consumer: Consumer;
  readonly received: ReceivedMessage;
}

/** How the router settled one attempt. `local-retry` is used by ordered subscriptions only. */
type Outcome = { readonly kind: 'settled' } | { readonly kind: 'local-retry'; readonly delayMs: number };

const RESUME_WAIT_MS = 60_000;

/**
 * Consumes one group queue on its own channel with manual acks and a per-consumer prefetch
 * (`prefetch` option, or the subscription's concurrency), and runs deliveries through core's
 * {@link KeyedDispatcher} (concurrency limit; per-partition-key order when `ordered`).
 *
 * Settlement: `ack` acks on the channel the message came from (an ack on a dead channel is
 * ignored: the broker redelivers). `retry` republishes a copy carrying the next attempt number
 * to the smallest delay tier ≥ the delay (confirmed), then acks; ordered subscriptions retry in
 * place instead — the message stays unacked, its key stays blocked, and it is handed to the
 * handler again after the delay, so later messages of that key never overtake it. `deadLetter`
 * publishes a copy with reason headers to the group's dead-letter queue (confirmed), then acks.
 * If a republish fails, the message is returned to its queue and the call rejects.
 *
 * Resilience: when the channel or connection is lost, the subscription re-opens its channel
 * and consumer on the next connection, forever, until closed. Close: cancel the consumer, stop
 * starting new work, wait up to the drain timeout, return unstarted messages (nack + requeue,
 * in delivery order), close the channel (the broker requeues whatever is still unacked).
 */
export class RabbitMqSubscription implements Subscription {
  readonly #context: RabbitMqSubscriptionContext;
  readonly #queue: string;
  readonly #dispatcher: KeyedDispatcher<Received>;
  readonly #abort = new AbortController();
  readonly #held: Received[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  #consumer: Consumer | undefined;
  #resuming: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(context: RabbitMqSubscriptionContext) {
    this.#context = context;
    this.#queue = context.names.groupQueue(context.spec.destination, context.spec.group);
    this.#dispatcher = new KeyedDispatcher<Received>({
      concurrency: context.spec.concurrency,
      ordered: context.spec.ordered,
      run: (item) => this.#run(item),
      onError: (error) => context.onError(error),
    });
  }

  /** Open the channel and start consuming. Rejects with `SUBSCRIBE_FAILED`. Call once. */
  async start(): Promise<void> {
    try {
      await this.#consume();
    } catch (error) {
      throw subscribeError(error, this.#context.spec.destination, this.#context.spec.group);
    }
  }

  /** See {@link Subscription.close}. Idempotent; never rejects. */
  close(drainTimeoutMs: number): Promise<void> {
    this.#closing ??= this.#close(drainTimeoutMs).finally(() => this.#context.onClosed());
    return this.#closing;
  }

  get #stopping(): boolean {
    return this.#closing !== undefined;
  }

  async #consume(): Promise<void> {
    await this.#context.prepare();
    const channel = await this.#context.connection.createChannel(RESUME_WAIT_MS);
    const consumer: Consumer = { channel, open: true, started: false, tag: undefined };
    channel.on('close', () => {
      consumer.open = false;
      if (consumer.started && !this.#stopping) this.#scheduleResume();
    });
    try {
      if (this.#stopping) throw new Error('subscription closed while starting');
      const { options, spec } = this.#context;
      await channel.prefetch(options.prefetch > 0 ? options.prefetch : spec.concurrency, false);
      const reply = await channel.consume(this.#queue, (message) => this.#onMessage(consumer, message), { noAck: false });
      consumer.tag = reply.consumerTag;
      consumer.started = true;
      this.#consumer = consumer;
      if (this.#stopping) await channel.close().catch(() => undefined); // closed meanwhile: unacked ones are requeued
    } catch (error) {
      await channel.close().catch(() => undefined);
      throw error;
    }
  }

  #scheduleResume(): void {
    this.#resuming ??= this.#resume().finally(() => {
      this.#resuming = undefined;
    });
  }

  async #resume(): Promise<void> {
    let delay = this.#context.options.reconnectInitialDelayMs;
    while (!this.#stopping) {
      try {
        await this.#consume();
        return;
      } catch (error) {
        if (this.#stopping) return;
        this.#context.onError(subscribeError(error, this.#context.spec.destination, this.#context.spec.group));
      }
      await this.#sleep(delay);
      delay = Math.min(delay * 2, this.#context.options.reconnectMaxDelayMs);
    }
  }

  #onMessage(consumer: Consumer, message: ConsumeMessage | null): void {
    if (message === null) {
      // Cancelled by the broker (queue deleted or failed over): re-open through 'close'.
      consumer.channel.close().catch(() => undefined);
      return;
    }
    const received = amqpToReceived(message);
    this.#dispatcher.push({ message, consumer, received }, received.envelope.partitionKey);
  }

  async #run(item: Received): Promise<void> {
    let attempt = item.received.deliveryAttempt;
    for (;;) {
      if (!item.consumer.open) return; // its channel died: the broker redelivers it
      let outcome: Outcome | undefined;
      const delivery = this.#delivery(item, attempt, (settled) => {
        outcome = settled;
      });
      try {
        await this.#context.onDelivery(delivery);
      } catch (error) {
        this.#context.onError(error);
      }
      if (outcome === undefined) {
        this.#nack(item); // never settled: give it back rather than hold it forever
        return;
      }
      if (outcome.kind === 'settled') return;
      if (!(await this.#sleep(outcome.delayMs))) {
        this.#held.push(item); // closing: returned to the queue by close()
        return;
      }
      attempt += 1;
    }
  }

  #delivery(item: Received, attempt: number, settle: (outcome: Outcome) => void): Delivery {
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
      ack: async () => {
        if (!once()) return;
        settle({ kind: 'settled' });
        this.#ack(item, 'ack');
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

  /** A retry delay above the largest tier is refused (never shortened); the delivery stays unsettled. */
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

  #retryRequest(item: Received, attempt: number, delayMs: number): PublishRequest {
    const { names, options, spec } = this.#context;
    const copy = retryCopy(item.message, item.received.envelope.id, attempt + 1);
    if (delayMs <= 0) return { ...copy, exchange: '', routingKey: this.#queue, destination: spec.destination };
    const tier = chooseDelayTier(delayMs, options.delayTiersMs) as number; // range checked by #checkDelay
    return { ...copy, exchange: names.delayExchange(tier), routingKey: this.#queue, destination: spec.destination };
  }

  #deadLetterRequest(item: Received, reason: DeadLetterReason): PublishRequest {
    const { names, spec } = this.#context;
    const copy = deadLetterCopy(item.message, item.received.envelope.id, reason, { destination: spec.destination, group: spec.group });
    return { ...copy, exchange: '', routingKey: names.deadLetterQueue(spec.destination, spec.group), destination: spec.destination };
  }

  /** Make the copy durable, then ack the original. On failure return the original to its queue. */
  async #republish(item: Received, request: PublishRequest, action: string, delayMs: number): Promise<void> {
    this.#ensureOpen(item, action);
    try {
      await this.#context.publisher.publish([request], this.#context.options.publishTimeoutMs);
    } catch (error) {
      this.#nackLater(item, Math.min(delayMs, 5_000));
      throw settlementError(error, action, this.#context.spec.destination, this.#context.spec.group);
    }
    this.#ack(item, action);
  }

  /**
   * Delivery tags belong to their channel: once it is gone nothing can settle the message, and
   * the broker redelivers it. Reject (typed, never crash) so the router knows.
   */
  #ensureOpen(item: Received, action: string): void {
    if (item.consumer.open) return;
    throw settlementError(new Error('the channel it was received on is closed; the broker redelivers it'), action, this.#context.spec.destination, this.#context.spec.group);
  }

  #ack(item: Received, action: string): void {
    this.#ensureOpen(item, action);
    try {
      item.consumer.channel.ack(item.message);
    } catch (error) {
      throw settlementError(error, action, this.#context.spec.destination, this.#context.spec.group);
    }
  }

  #nack(item: Received): void {
    if (!item.consumer.open) return;
    try {
      item.consumer.channel.nack(item.message, false, true);
    } catch {
      // channel closed in between: the broker requeues it anyway
    }
  }

  #nackLater(item: Received, delayMs: number): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.#nack(item);
    }, delayMs);
    this.#timers.add(timer);
  }

  /** Resolves `true` after `ms`, or `false` at once when the subscription is closing. */
  #sleep(ms: number): Promise<boolean> {
    const signal = this.#abort.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    // Stop starting work first (synchronously), then stop intake; late arrivals stay unacked
    // and are requeued by the broker when the channel closes.
    const unstarted = this.#dispatcher.stop();
    this.#abort.abort();
    const consumer = this.#consumer;
    if (consumer?.open === true && consumer.tag !== undefined) {
      await consumer.channel.cancel(consumer.tag).catch(() => undefined);
    }
    await this.#dispatcher.drain(drainTimeoutMs);
    for (const timer of this.#timers) clearTimeout(timer);
    const release = [...unstarted, ...this.#held].sort((a, b) => a.message.fields.deliveryTag - b.message.fields.deliveryTag);
    for (const item of release) this.#nack(item);
    this.#held.length = 0;
    const last = this.#consumer;
    if (last?.open === true) await last.channel.close().catch(() => undefined);
  }
}
