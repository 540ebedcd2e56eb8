// Helpers shared by the RabbitMQ integration tests: a native amqplib client (never the adapter
// under test) for out-of-band reads and writes, fault injection, and cleanup of test topology.
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { connect } from 'amqplib';
import type { ChannelModel } from 'amqplib';
import { envelopeFromWire, readDeadLetterInfo } from '@omnibus/core';
import type { DeadLetterInfo, MessageEnvelope } from '@omnibus/core';
import { RabbitMqNames } from '../src/rabbitmq-topology.js';
import { amqpHeadersToWire } from '../src/rabbitmq-message-mapper.js';

export const RABBITMQ_URL = process.env['OMNIBUS_TEST_RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672';
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
const brokersModule = path.join(repoRoot, 'scripts/brokers/index.mjs');

interface BrokerManager {
  up(name: string): Promise<unknown>;
  restart(name: string): Promise<unknown>;
  brokers: { rabbitmq: { ctl(args: string[]): Promise<{ code: number; output: string }> } };
}

async function manager(): Promise<BrokerManager> {
  return (await import(brokersModule)) as BrokerManager;
}

/** A prefix unique to this test run (one set of delay queues per run, not per transport). */
export function uniquePrefix(label: string): string {
  return `omnibus-test-${label}-${randomUUID().slice(0, 8)}`;
}

/** Start RabbitMQ through the shared broker manager (idempotent). */
export async function ensureRabbitMq(): Promise<void> {
  await (await manager()).up('rabbitmq');
}

/** Stop and start the broker keeping its data; resolves when it accepts clients again. */
export async function restartRabbitMq(): Promise<void> {
  await (await manager()).restart('rabbitmq');
}

/** Force-close every client connection on the broker side. */
export async function dropRabbitMqConnections(): Promise<void> {
  await (await manager()).brokers.rabbitmq.ctl(['close_all_connections', 'omnibus contract test']);
}

/**
 * A native amqplib connection, lazily opened and re-opened after faults, used for everything the
 * tests do out of band.
 */
export class NativeClient {
  #model: ChannelModel | undefined;
  readonly #names: RabbitMqNames;
  readonly #queues = new Set<string>();
  readonly #exchanges = new Set<string>();

  constructor(prefix: string) {
    this.#names = new RabbitMqNames(prefix);
  }

  get names(): RabbitMqNames {
    return this.#names;
  }

  async model(): Promise<ChannelModel> {
    if (this.#model === undefined) {
      const model = await connect(RABBITMQ_URL);
      model.on('error', () => undefined);
      model.on('close', () => {
        if (this.#model === model) this.#model = undefined;
      });
      this.#model = model;
    }
    return this.#model;
  }

  /** Remember a (destination, group) so that {@link cleanup} deletes its queues. */
  track(destination: string, group?: string): void {
    this.#exchanges.add(this.#names.destinationExchange(destination));
    if (group !== undefined) {
      this.#queues.add(this.#names.groupQueue(destination, group));
      this.#queues.add(this.#names.deadLetterQueue(destination, group));
      this.#exchanges.add(this.#names.filterExchange(destination, group));
    }
  }

  /** Read (and remove) up to `count` dead-lettered messages, waiting up to `timeoutMs`. */
  async readDeadLetters(
    destination: string,
    group: string,
    count: number,
    timeoutMs: number,
  ): Promise<{ envelope: MessageEnvelope; info: DeadLetterInfo }[]> {
    const queue = this.#names.deadLetterQueue(destination, group);
    const out: { envelope: MessageEnvelope; info: DeadLetterInfo }[] = [];
    const deadline = Date.now() + timeoutMs;
    const channel = await (await this.model()).createChannel();
    channel.on('error', () => undefined);
    try {
      while (out.length < count) {
        const message = await channel.get(queue, { noAck: false });
        if (message === false) {
          if (Date.now() >= deadline) break;
          await new Promise((resolve) => setTimeout(resolve, 50));
          continue;
        }
        channel.ack(message);
        const headers = amqpHeadersToWire(message.properties.headers);
        const info = readDeadLetterInfo(headers);
        const envelope = envelopeFromWire({ headers, payload: new Uint8Array(message.content) });
        if (info !== undefined) out.push({ envelope, info });
      }
    } finally {
      await channel.close().catch(() => undefined);
    }
    return out;
  }

  /** Publish raw bytes (no Omnibus envelope) to a destination's exchange, with a publisher confirm. */
  async publishForeign(
    destination: string,
    body: Uint8Array,
    headers?: Readonly<Record<string, string | number | boolean>>,
  ): Promise<void> {
    const channel = await (await this.model()).createConfirmChannel();
    channel.on('error', () => undefined);
    try {
      channel.publish(this.#names.destinationExchange(destination), '', Buffer.from(body), {
        persistent: true,
        headers: { ...headers },
      });
      await channel.waitForConfirms();
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Number of ready messages in a queue. */
  async messageCount(queue: string): Promise<number> {
    const channel = await (await this.model()).createChannel();
    channel.on('error', () => undefined);
    try {
      return (await channel.checkQueue(queue)).messageCount;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Whether a queue exists (passive check on a throw-away channel). */
  async queueExists(queue: string): Promise<boolean> {
    const channel = await (await this.model()).createChannel();
    channel.on('error', () => undefined);
    try {
      await channel.checkQueue(queue);
      return true;
    } catch {
      return false;
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  /** Delete every tracked queue/exchange plus the prefix's shared delay and subscriber topology, then disconnect. */
  async cleanup(delayTiersMs: readonly number[]): Promise<void> {
    const queues = [
      ...this.#queues,
      ...delayTiersMs.map((tier) => this.#names.delayQueue(tier)),
      this.#names.subscribersQueue(),
    ];
    const exchanges = [
      ...this.#exchanges,
      ...delayTiersMs.map((tier) => this.#names.delayExchange(tier)),
      this.#names.redeliverExchange(),
      this.#names.subscribersExchange(),
      this.#names.filteredExchange(),
    ];
    const model = await this.model();
    for (const queue of queues) {
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      await channel.deleteQueue(queue).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
    for (const exchange of exchanges) {
      const channel = await model.createChannel();
      channel.on('error', () => undefined);
      await channel.deleteExchange(exchange).catch(() => undefined);
      await channel.close().catch(() => undefined);
    }
    await model.close().catch(() => undefined);
    this.#model = undefined;
  }
}
