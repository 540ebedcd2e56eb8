import { randomUUID } from 'node:crypto';
import { connect, type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { decodePayload, encodePayload, type BenchPayload } from '../payload.js';
import type { Subject, SubjectFactory, SubjectSpec } from './subject.js';

/** Connection settings shared by the raw RabbitMQ subject and the cleanup helpers. */
export interface RabbitSettings {
  readonly url: string;
  readonly queueType: 'quorum' | 'classic';
}

/**
 * amqplib by hand with the framework's semantics: a durable fanout exchange per destination,
 * one durable queue (same queue type) bound to it, persistent + mandatory publishes on a
 * confirm channel (each publish resolves on its broker confirm), a separate consumer
 * connection with prefetch = concurrency and a manual ack after the handler resolved.
 */
class RawRabbitSubject implements Subject {
  readonly #spec: SubjectSpec;
  readonly #settings: RabbitSettings;
  readonly #exchange: string;
  readonly #queue: string;
  #producer: ChannelModel | undefined;
  #confirm: ConfirmChannel | undefined;
  #consumerConnection: ChannelModel | undefined;
  #consumer: Channel | undefined;

  constructor(spec: SubjectSpec, settings: RabbitSettings) {
    this.#spec = spec;
    this.#settings = settings;
    this.#exchange = `raw-bench/${spec.runId}`;
    this.#queue = `raw-bench/${spec.runId}/bench`;
  }

  async open(): Promise<void> {
    this.#producer = await connect(this.#settings.url);
    const confirm = await this.#producer.createConfirmChannel();
    this.#confirm = confirm;
    confirm.on('return', () => undefined);
    await confirm.assertExchange(this.#exchange, 'fanout', { durable: true });
    await confirm.assertQueue(this.#queue, { durable: true, arguments: { 'x-queue-type': this.#settings.queueType } });
    await confirm.bindQueue(this.#queue, this.#exchange, '');
  }

  publish(payload: BenchPayload): Promise<void> {
    const channel = this.#confirm as ConfirmChannel;
    return new Promise((resolve, reject) => {
      channel.publish(
        this.#exchange,
        '',
        encodePayload(payload),
        { persistent: true, mandatory: true, messageId: randomUUID(), contentType: 'application/json' },
        (error: unknown) => (error === null || error === undefined ? resolve() : reject(error instanceof Error ? error : new Error(JSON.stringify(error)))),
      );
    });
  }

  async publishBatch(payloads: readonly BenchPayload[]): Promise<void> {
    await Promise.all(payloads.map((p) => this.publish(p)));
  }

  async startConsumer(): Promise<void> {
    this.#consumerConnection = await connect(this.#settings.url);
    const channel = await this.#consumerConnection.createChannel();
    this.#consumer = channel;
    await channel.prefetch(this.#spec.concurrency, false);
    const handle = this.#spec.onMessage;
    await channel.consume(
      this.#queue,
      (message: ConsumeMessage | null) => {
        if (message === null) return;
        void (async () => {
          let ok = true;
          try {
            await handle(decodePayload(message.content));
          } catch {
            ok = false;
          }
          try {
            if (ok) channel.ack(message);
            else channel.nack(message, false, true);
          } catch {
            // channel closed while the handler ran (end of a run): the broker redelivers
          }
        })();
      },
      { noAck: false },
    );
  }

  async close(): Promise<void> {
    await this.#consumerConnection?.close().catch(() => undefined);
    try {
      await this.#confirm?.deleteQueue(this.#queue);
      await this.#confirm?.deleteExchange(this.#exchange);
    } catch {
      // best effort
    }
    await this.#producer?.close().catch(() => undefined);
  }
}

/** Delete queues and exchanges by name on a short-lived connection (best effort). */
export async function deleteRabbitEntities(url: string, queues: readonly string[], exchanges: readonly string[]): Promise<void> {
  const connection = await connect(url);
  try {
    for (const queue of queues) {
      const channel = await connection.createChannel();
      await channel.deleteQueue(queue).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
    for (const exchange of exchanges) {
      const channel = await connection.createChannel();
      await channel.deleteExchange(exchange).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
  } finally {
    await connection.close().catch(() => undefined);
  }
}

/** The raw amqplib baseline (see {@link RawRabbitSubject}). */
export function rawRabbitFactory(settings: RabbitSettings, amqplibVersion: string): SubjectFactory {
  return {
    kind: 'raw',
    label: `amqplib ${amqplibVersion}`,
    settings: {
      queueType: settings.queueType,
      publish: 'confirm channel, persistent + mandatory, resolve on confirm',
      consume: 'own connection, prefetch = concurrency, manual ack after handler',
      codec: 'JSON',
    },
    create: (spec) => new RawRabbitSubject(spec, settings),
  };
}
