import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { sleep } from '../async-utils.js';
import type { BenchPayload } from '../payload.js';
import { benchKafka } from './raw-kafka-subject.js';
import { deleteRabbitEntities, type RabbitSettings } from './raw-rabbitmq-subject.js';
import type { Subject, SubjectFactory, SubjectSpec } from './subject.js';

/* The NestJS packages are optional: they are loaded at run time (CommonJS, Nest 11) from the
 * bench package's own resolution path or from `--nest-modules <dir>`, so the harness compiles
 * and runs without them. Only the few members used here are typed. */

type Decorator = (...args: unknown[]) => unknown;
interface NestApp {
  listen(): Promise<unknown>;
  close(): Promise<void>;
}
interface NestClient {
  connect(): Promise<unknown>;
  close(): Promise<unknown>;
  emit(pattern: string, data: unknown): unknown;
}
interface RmqContextLike {
  getChannelRef(): { ack(message: unknown): void; nack(message: unknown, allUpTo?: boolean, requeue?: boolean): void };
  getMessage(): unknown;
}

/** The NestJS modules the peer comparison needs. */
export interface NestModules {
  readonly versions: Readonly<Record<string, string>>;
  readonly NestFactory: { createMicroservice(module: unknown, options: unknown): Promise<NestApp> };
  readonly Transport: { RMQ: unknown; KAFKA: unknown };
  readonly ClientProxyFactory: { create(options: unknown): NestClient };
  readonly EventPattern: (pattern: string) => Decorator;
  readonly Payload: () => Decorator;
  readonly Ctx: () => Decorator;
  readonly Module: (metadata: unknown) => Decorator;
  readonly Controller: () => Decorator;
  readonly lastValueFrom: (observable: unknown, config?: unknown) => Promise<unknown>;
}

/**
 * Load @nestjs/core, @nestjs/common, @nestjs/microservices and rxjs, from `dir` (a
 * node_modules folder) when given, else from this package's resolution path. Returns the
 * reason instead when they are not installed.
 */
export function loadNest(dir: string | undefined): NestModules | string {
  const base = dir === undefined ? import.meta.url : join(basename(dir) === 'node_modules' ? dirname(dir) : dir, 'noop.js');
  const req = createRequire(base);
  try {
    req('reflect-metadata');
    // Nest's own logs (connection notices) would interleave with the progress display.
    (req('@nestjs/common') as { Logger: { overrideLogger(levels: false): void } }).Logger.overrideLogger(false);
    const core = req('@nestjs/core') as Record<string, unknown>;
    const common = req('@nestjs/common') as Record<string, unknown>;
    const micro = req('@nestjs/microservices') as Record<string, unknown>;
    const rxjs = req('rxjs') as Record<string, unknown>;
    const version = (pkg: string): string => {
      try {
        return (req(`${pkg}/package.json`) as { version: string }).version;
      } catch {
        // package.json not exported: walk up from the entry point
        let dir = dirname(req.resolve(pkg));
        for (let i = 0; i < 6; i++, dir = dirname(dir)) {
          try {
            const json = req(join(dir, 'package.json')) as { name?: string; version?: string };
            if (json.name === pkg) return json.version ?? '?';
          } catch {
            // keep walking
          }
        }
        return '?';
      }
    };
    const versions: Record<string, string> = {};
    for (const pkg of ['@nestjs/core', '@nestjs/common', '@nestjs/microservices', 'rxjs']) versions[pkg] = version(pkg);
    try {
      versions['amqp-connection-manager'] = version('amqp-connection-manager');
    } catch {
      // only needed for RabbitMQ
    }
    return {
      versions,
      NestFactory: core['NestFactory'] as NestModules['NestFactory'],
      Transport: micro['Transport'] as NestModules['Transport'],
      ClientProxyFactory: micro['ClientProxyFactory'] as NestModules['ClientProxyFactory'],
      EventPattern: micro['EventPattern'] as NestModules['EventPattern'],
      Payload: micro['Payload'] as NestModules['Payload'],
      Ctx: micro['Ctx'] as NestModules['Ctx'],
      Module: common['Module'] as NestModules['Module'],
      Controller: common['Controller'] as NestModules['Controller'],
      lastValueFrom: rxjs['lastValueFrom'] as NestModules['lastValueFrom'],
    };
  } catch (error) {
    return `NestJS packages not installed (${error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error)})`;
  }
}

/** Build a Nest module with one controller whose `handle(data, ctx)` is an @EventPattern for `pattern`. */
function nestModule(nest: NestModules, pattern: string, handle: (data: BenchPayload, ctx: unknown) => Promise<void>): unknown {
  class BenchController {
    handle(data: BenchPayload, ctx: unknown): Promise<void> {
      return handle(data, ctx);
    }
  }
  const proto = BenchController.prototype;
  const descriptor = Object.getOwnPropertyDescriptor(proto, 'handle');
  nest.EventPattern(pattern)(proto, 'handle', descriptor);
  nest.Payload()(proto, 'handle', 0);
  nest.Ctx()(proto, 'handle', 1);
  nest.Controller()(BenchController);
  class BenchModule {}
  nest.Module({ controllers: [BenchController] })(BenchModule);
  return BenchModule;
}

/**
 * @nestjs/microservices RMQ: ClientRMQ.emit (sendToQueue on an amqp-connection-manager confirm
 * channel, persistent) and ServerRMQ with noAck false, prefetchCount = concurrency, and a
 * manual `channel.ack` after the handler resolved. Nest publishes to the queue directly
 * (default exchange); the queue has the same type as the other subjects'.
 */
class NestRabbitSubject implements Subject {
  readonly #nest: NestModules;
  readonly #spec: SubjectSpec;
  readonly #settings: RabbitSettings;
  readonly #queue: string;
  #client: NestClient | undefined;
  #app: NestApp | undefined;

  constructor(nest: NestModules, spec: SubjectSpec, settings: RabbitSettings) {
    this.#nest = nest;
    this.#spec = spec;
    this.#settings = settings;
    this.#queue = `nest-bench/${spec.runId}`;
  }

  #options(): Record<string, unknown> {
    return {
      urls: [this.#settings.url],
      queue: this.#queue,
      queueOptions: { durable: true, arguments: { 'x-queue-type': this.#settings.queueType } },
      persistent: true,
    };
  }

  async open(): Promise<void> {
    this.#client = this.#nest.ClientProxyFactory.create({ transport: this.#nest.Transport.RMQ, options: this.#options() });
    await this.#client.connect();
  }

  async publish(payload: BenchPayload): Promise<void> {
    await this.#nest.lastValueFrom((this.#client as NestClient).emit('bench', payload), { defaultValue: undefined });
  }

  async publishBatch(payloads: readonly BenchPayload[]): Promise<void> {
    await Promise.all(payloads.map((p) => this.publish(p)));
  }

  async startConsumer(): Promise<void> {
    const onMessage = this.#spec.onMessage;
    const module = nestModule(this.#nest, 'bench', async (data, ctx) => {
      const context = ctx as RmqContextLike;
      let ok = true;
      try {
        await onMessage(data);
      } catch {
        ok = false;
      }
      try {
        if (ok) context.getChannelRef().ack(context.getMessage());
        else context.getChannelRef().nack(context.getMessage(), false, true);
      } catch {
        // channel closed while the handler ran (end of a run): the broker redelivers
      }
    });
    this.#app = await this.#nest.NestFactory.createMicroservice(module, {
      transport: this.#nest.Transport.RMQ,
      options: { ...this.#options(), noAck: false, prefetchCount: this.#spec.concurrency },
      logger: false,
    });
    await this.#app.listen();
  }

  async close(): Promise<void> {
    await this.#app?.close().catch(() => undefined);
    await this.#client?.close().catch(() => undefined);
    await deleteRabbitEntities(this.#settings.url, [this.#queue], []).catch(() => undefined);
  }
}

/** Kafka settings of the Nest subject. */
export interface NestKafkaSettings {
  readonly brokers: readonly string[];
  readonly partitions: number;
}

/**
 * @nestjs/microservices Kafka: ClientKafka.emit (one kafkajs `send` per message, idempotent
 * producer, acks -1) and ServerKafka (kafkajs `eachMessage`, which Nest awaits, so offsets are
 * auto-committed only after the handler resolved), `partitionsConsumedConcurrently` as the
 * other subjects use. Nest has no batch publish and handles one message per partition at a time.
 */
class NestKafkaSubject implements Subject {
  readonly #nest: NestModules;
  readonly #spec: SubjectSpec;
  readonly #settings: NestKafkaSettings;
  readonly #topic: string;
  readonly #groupId: string;
  #client: NestClient | undefined;
  #app: NestApp | undefined;

  constructor(nest: NestModules, spec: SubjectSpec, settings: NestKafkaSettings) {
    this.#nest = nest;
    this.#spec = spec;
    this.#settings = settings;
    this.#topic = `nest-bench.${spec.runId}`;
    this.#groupId = `nest-bench.${spec.runId}`;
  }

  async open(): Promise<void> {
    const admin = benchKafka(this.#settings.brokers, 'nest-bench-admin').admin();
    await admin.connect();
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: [{ topic: this.#topic, numPartitions: this.#settings.partitions, replicationFactor: 1 }],
      });
    } finally {
      await admin.disconnect();
    }
    this.#client = this.#nest.ClientProxyFactory.create({
      transport: this.#nest.Transport.KAFKA,
      options: {
        client: { clientId: 'nest-bench', brokers: [...this.#settings.brokers], logLevel: 0 },
        producer: { idempotent: true, maxInFlightRequests: 5, allowAutoTopicCreation: false },
        send: { acks: -1 },
        producerOnlyMode: true,
      },
    });
    await this.#client.connect();
  }

  async publish(payload: BenchPayload): Promise<void> {
    await this.#nest.lastValueFrom((this.#client as NestClient).emit(this.#topic, payload), { defaultValue: undefined });
  }

  async publishBatch(payloads: readonly BenchPayload[]): Promise<void> {
    await Promise.all(payloads.map((p) => this.publish(p)));
  }

  async startConsumer(): Promise<void> {
    const onMessage = this.#spec.onMessage;
    const module = nestModule(this.#nest, this.#topic, async (data) => {
      await onMessage(data);
    });
    this.#app = await this.#nest.NestFactory.createMicroservice(module, {
      transport: this.#nest.Transport.KAFKA,
      options: {
        client: { clientId: 'nest-bench', brokers: [...this.#settings.brokers], logLevel: 0 },
        consumer: { groupId: this.#groupId, maxWaitTimeInMs: 1000, allowAutoTopicCreation: false },
        subscribe: { fromBeginning: true },
        run: { partitionsConsumedConcurrently: Math.min(8, Math.max(2, this.#spec.concurrency)) },
        postfixId: '',
      },
      logger: false,
    });
    await this.#app.listen();
    await this.#waitForJoin();
  }

  /** Nest's `listen` returns before the consumer joined its group: wait until the group is stable. */
  async #waitForJoin(): Promise<void> {
    const admin = benchKafka(this.#settings.brokers, 'nest-bench-admin').admin();
    await admin.connect();
    try {
      const deadline = Date.now() + 60_000;
      while (Date.now() < deadline) {
        const { groups } = await admin.describeGroups([this.#groupId]);
        const group = groups[0];
        if (group !== undefined && group.state === 'Stable' && group.members.length > 0) return;
        await sleep(100);
      }
      throw new Error(`Nest Kafka consumer group ${this.#groupId} did not become stable`);
    } finally {
      await admin.disconnect();
    }
  }

  async close(): Promise<void> {
    await this.#app?.close().catch(() => undefined);
    await this.#client?.close().catch(() => undefined);
    const admin = benchKafka(this.#settings.brokers, 'nest-bench-admin').admin();
    await admin.connect().catch(() => undefined);
    await admin.deleteTopics({ topics: [this.#topic] }).catch(() => undefined);
    await admin.disconnect().catch(() => undefined);
  }
}

/** The NestJS RabbitMQ peer (see {@link NestRabbitSubject}). */
export function nestRabbitFactory(nest: NestModules, settings: RabbitSettings): SubjectFactory {
  return {
    kind: 'nestjs',
    label: `@nestjs/microservices ${nest.versions['@nestjs/microservices'] ?? '?'} RMQ (amqp-connection-manager ${nest.versions['amqp-connection-manager'] ?? '?'})`,
    settings: {
      queueType: settings.queueType,
      publish: 'ClientRMQ.emit → sendToQueue on a confirm channel, persistent; batch = concurrent emits',
      consume: 'ServerRMQ noAck false, prefetchCount = concurrency, channel.ack after handler',
      codec: 'JSON ({pattern, data})',
    },
    create: (spec) => new NestRabbitSubject(nest, spec, settings),
  };
}

/** The NestJS Kafka peer (see {@link NestKafkaSubject}). */
export function nestKafkaFactory(nest: NestModules, settings: NestKafkaSettings): SubjectFactory {
  return {
    kind: 'nestjs',
    label: `@nestjs/microservices ${nest.versions['@nestjs/microservices'] ?? '?'} Kafka (kafkajs)`,
    maxInFlight: settings.partitions,
    settings: {
      partitions: settings.partitions,
      publish: 'ClientKafka.emit → one producer.send per message (idempotent, acks -1); batch = concurrent emits',
      consume: 'ServerKafka eachMessage (awaited) + kafkajs autoCommit after the batch; partitionsConsumedConcurrently min(8, max(2, concurrency))',
      codec: 'JSON',
    },
    create: (spec) => new NestKafkaSubject(nest, spec, settings),
  };
}
