import type { ConsumeMessage } from 'amqplib';
import { AckCoalescer } from './ack-coalescer.js';
import { KeyedDispatcher } from '@omnibus/core';
import type { DeliveryHandler, Subscription, SubscriptionSpec } from '@omnibus/core';
import { retryInPlace, sleep } from '@omnibus/core/adapter-kit';
import type { InPlaceSteps } from '@omnibus/core/adapter-kit';
import type { RabbitMqConnection } from './rabbitmq-connection.js';
import { subscribeError } from './rabbitmq-error-mapper.js';
import { amqpToReceived } from './rabbitmq-message-mapper.js';
import type { RabbitMqTransportOptions } from './rabbitmq-options.js';
import type { RabbitMqPublishPort } from './rabbitmq-delay-tiers.js';
import { RabbitMqSettlement } from './rabbitmq-settlement.js';
import type { ConsumerChannel, ReceivedDelivery } from './rabbitmq-settlement.js';
import type { RabbitMqNames } from './rabbitmq-topology.js';

/** What a subscription needs from its transport. */
export interface RabbitMqSubscriptionContext {
  readonly spec: SubscriptionSpec;
  readonly onDelivery: DeliveryHandler;
  readonly options: RabbitMqTransportOptions;
  readonly names: RabbitMqNames;
  readonly connection: RabbitMqConnection;
  readonly publisher: RabbitMqPublishPort;
  /** Makes sure the group's queues exist (declares or verifies them); called before every consume. */
  readonly prepare: () => Promise<void>;
  /** Receives errors that cannot be thrown to a caller (a failed resume, a rejected handler). */
  readonly onError: (error: unknown) => void;
  /** Called once the subscription is closed, so the transport can forget it. */
  readonly onClosed: () => void;
}

const RESUME_WAIT_MS = 60_000;

/**
 * Consumes one group queue on its own channel with manual acks and a per-consumer prefetch
 * (`prefetch` option, or the subscription's concurrency), and runs deliveries through core's
 * {@link KeyedDispatcher} (concurrency limit; per-partition-key order when `ordered`).
 *
 * Settlement is {@link RabbitMqSettlement}'s job. Ordered subscriptions retry in place (the
 * adapter kit's `retryInPlace`): this subscription keeps the message unacked and its key
 * blocked, waits the delay and hands it to the handler again with the next attempt number, so
 * later messages of that key never overtake it. A delivery the handler never settled is
 * returned to the queue.
 *
 * Resilience: when the channel or connection is lost, the subscription re-opens its channel
 * and consumer on the next connection, forever, until closed. Close: cancel the consumer, stop
 * starting new work, wait up to the drain timeout, return unstarted messages (nack + requeue,
 * in delivery order), close the channel (the broker requeues whatever is still unacked).
 */
export class RabbitMqSubscription implements Subscription {
  readonly #context: RabbitMqSubscriptionContext;
  readonly #queue: string;
  readonly #dispatcher: KeyedDispatcher<ReceivedDelivery>;
  readonly #abort = new AbortController();
  readonly #held: ReceivedDelivery[] = [];
  readonly #settlement: RabbitMqSettlement;
  readonly #steps: InPlaceSteps<ReceivedDelivery>;
  #consumer: ConsumerChannel | undefined;
  #resuming: Promise<void> | undefined;
  #closing: Promise<void> | undefined;

  constructor(context: RabbitMqSubscriptionContext) {
    this.#context = context;
    this.#queue = context.names.groupQueue(context.spec.destination, context.spec.group);
    this.#settlement = new RabbitMqSettlement(context);
    this.#steps = {
      begin: (item) => item.consumer.open, // its channel died: the broker redelivers it
      deliver: async (item, attempt) => {
        const delivery = this.#settlement.delivery(item, attempt);
        try {
          await context.onDelivery(delivery);
        } catch (error) {
          context.onError(error);
        }
        return delivery;
      },
      sleep: (ms) => sleep(ms, this.#abort.signal),
    };
    this.#dispatcher = new KeyedDispatcher<ReceivedDelivery>({
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
    const consumer: ConsumerChannel = {
      channel,
      acks: new AckCoalescer(channel),
      open: true,
      started: false,
      tag: undefined,
    };
    channel.on('close', () => {
      consumer.open = false;
      if (consumer.started && !this.#stopping) this.#scheduleResume();
    });
    try {
      if (this.#stopping) throw new Error('subscription closed while starting');
      const { options, spec } = this.#context;
      await channel.prefetch(options.prefetch > 0 ? options.prefetch : spec.concurrency, false);
      const reply = await channel.consume(this.#queue, (message) => this.#onMessage(consumer, message), {
        noAck: false,
      });
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
        this.#context.onError(
          subscribeError(error, this.#context.spec.destination, this.#context.spec.group),
        );
      }
      await sleep(delay, this.#abort.signal);
      delay = Math.min(delay * 2, this.#context.options.reconnectMaxDelayMs);
    }
  }

  #onMessage(consumer: ConsumerChannel, message: ConsumeMessage | null): void {
    if (message === null) {
      // Cancelled by the broker (queue deleted or failed over): re-open through 'close'.
      try {
        consumer.acks.flush();
      } catch {
        // already closed
      }
      consumer.channel.close().catch(() => undefined);
      return;
    }
    consumer.acks.received(message);
    const received = amqpToReceived(message);
    this.#dispatcher.push({ message, consumer, received }, received.envelope.partitionKey);
  }

  async #run(item: ReceivedDelivery): Promise<void> {
    const end = await retryInPlace(item, item.received.deliveryAttempt, this.#steps);
    if (end === 'unsettled')
      this.#settlement.release(item); // never settled: give it back rather than hold it forever
    else if (end === 'interrupted') this.#held.push(item); // closing: returned to the queue by close()
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
    this.#settlement.cancelTimers();
    const release = [...unstarted, ...this.#held].sort(
      (a, b) => a.message.fields.deliveryTag - b.message.fields.deliveryTag,
    );
    for (const item of release) this.#settlement.release(item);
    this.#held.length = 0;
    const last = this.#consumer;
    if (last?.open === true) {
      try {
        last.acks.flush();
      } catch {
        // closed meanwhile: the broker requeues what was not acked
      }
      await last.channel.close().catch(() => undefined);
    }
  }
}
