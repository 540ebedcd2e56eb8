import { InMemoryBroker, InMemoryTransport } from '@omnibus/core';
import { KafkaTransport } from '@omnibus/transport-kafka';
import { RabbitMqNames, RabbitMqTransport } from '@omnibus/transport-rabbitmq';
import { SqsTransport } from '@omnibus/transport-sqs';
import { AzureServiceBusTransport, topicName } from '@omnibus/transport-azure';
import { NatsNames, NatsTransport } from '@omnibus/transport-nats';
import { connect as natsConnect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { omnibusFactory, BENCH_GROUP } from './omnibus-subject.js';
import { rawMemoryFactory } from './raw-memory-subject.js';
import { deleteKafkaTopics, rawKafkaFactory } from './raw-kafka-subject.js';
import { deleteRabbitEntities, rawRabbitFactory } from './raw-rabbitmq-subject.js';
import { deleteSqsQueues, rawSqsFactory } from './raw-sqs-subject.js';
import { emulatorAdmin, rawAzureFactory } from './raw-azure-subject.js';
import { rawNatsFactory } from './raw-nats-subject.js';
import { nestKafkaFactory, nestRabbitFactory, type NestModules } from './nest-subjects.js';
import type { SubjectFactory } from './subject.js';

/** Transports the harness knows. */
export const TRANSPORT_NAMES = ['in-memory', 'rabbitmq', 'kafka', 'sqs', 'azure', 'nats'] as const;
export type TransportName = (typeof TRANSPORT_NAMES)[number];

/** Everything the harness needs to benchmark one transport. */
export interface TransportBench {
  readonly name: TransportName;
  /** Broker name for `scripts/brokers/cli.mjs` (none for in-memory). */
  readonly broker?: string;
  /** Messages per throughput run (full mode). */
  readonly messages: number;
  readonly subjects: readonly SubjectFactory[];
  /** Settings common to every subject on this transport. */
  readonly settings: Readonly<Record<string, unknown>>;
}

/** Inputs to build the transport table. */
export interface TransportContext {
  readonly versions: Readonly<Record<string, string>>;
  readonly nest: NestModules | undefined;
  readonly rabbitQueueType: 'quorum' | 'classic';
  /** Extra Omnibus transport options per transport (`--omnibus-options`), merged over the defaults below. */
  readonly omnibusOptions: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Smoke run: shorter SQS long polls so closing subjects does not wait out 20 s polls. */
  readonly quick: boolean;
}

const RABBIT_URL = 'amqp://guest:guest@127.0.0.1:5672';
const KAFKA_BROKERS = ['127.0.0.1:9092'];
const SQS_ENDPOINT = 'http://127.0.0.1:9324';
const RABBIT_PREFIX = 'omnibus-bench';
const AZURE_CONNECTION_STRING =
  'Endpoint=sb://127.0.0.1:5673;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;';
const AZURE_ADMIN_URL = 'http://127.0.0.1:5674';
const AZURE_PREFIX = 'bench.';
const NATS_URL = 'nats://127.0.0.1:4222';
const NATS_PREFIX = 'omnibus-bench';

/** Delete JetStream streams by name on a short-lived connection (best effort). */
async function deleteNatsStreams(url: string, streams: readonly string[]): Promise<void> {
  const nc = await natsConnect({ servers: url });
  try {
    const jsm = await jetstreamManager(nc);
    for (const stream of streams) await jsm.streams.delete(stream).catch(() => undefined);
  } finally {
    await nc.close().catch(() => undefined);
  }
}

/** Build the benchmark definition of `name`. */
export function transportBench(name: TransportName, context: TransportContext): TransportBench {
  const v = (pkg: string): string => context.versions[pkg] ?? '?';
  const extra = context.omnibusOptions[name] ?? {};
  const extraSettings = Object.keys(extra).length === 0 ? {} : { overrides: JSON.stringify(extra) };
  switch (name) {
    case 'in-memory': {
      const brokers = new Map<string, InMemoryBroker>();
      const brokerFor = (runId: string): InMemoryBroker => {
        let broker = brokers.get(runId);
        if (broker === undefined) {
          broker = new InMemoryBroker();
          brokers.set(runId, broker);
        }
        return broker;
      };
      return {
        name,
        messages: 50_000,
        settings: { transport: 'InMemoryTransport (shared InMemoryBroker per run), default options' },
        subjects: [
          omnibusFactory(
            {
              createTransport: (runId) => new InMemoryTransport({ ...extra, broker: brokerFor(runId) }),
              cleanup: (runId) => {
                brokers.delete(runId);
                return Promise.resolve();
              },
            },
            `@omnibus/core ${v('@omnibus/core')} in-memory`,
            { prefetch: '2 × concurrency (default)', codec: 'JSON (default)', ...extraSettings },
          ),
          rawMemoryFactory(),
        ],
      };
    }
    case 'rabbitmq': {
      const names = new RabbitMqNames(RABBIT_PREFIX);
      const subjects: SubjectFactory[] = [
        omnibusFactory(
          {
            createTransport: () =>
              new RabbitMqTransport({
                urls: [RABBIT_URL],
                prefix: RABBIT_PREFIX,
                queueType: context.rabbitQueueType,
                ...extra,
              }),
            cleanup: (_runId, destination, group) =>
              deleteRabbitEntities(
                RABBIT_URL,
                [names.groupQueue(destination, group), names.deadLetterQueue(destination, group)],
                [names.destinationExchange(destination)],
              ),
          },
          `@omnibus/transport-rabbitmq ${v('@omnibus/transport-rabbitmq')} (amqplib ${v('amqplib')})`,
          {
            queueType: context.rabbitQueueType,
            prefetch: 'concurrency (default 0 → derived)',
            publishWindow: '1000 (default)',
            confirms: 'on, persistent + mandatory',
            ...extraSettings,
          },
        ),
        rawRabbitFactory({ url: RABBIT_URL, queueType: context.rabbitQueueType }, v('amqplib')),
      ];
      if (context.nest !== undefined)
        subjects.push(
          nestRabbitFactory(context.nest, { url: RABBIT_URL, queueType: context.rabbitQueueType }),
        );
      return {
        name,
        broker: 'rabbitmq',
        messages: 10_000,
        settings: { url: RABBIT_URL, queueType: context.rabbitQueueType },
        subjects,
      };
    }
    case 'kafka': {
      const subjects: SubjectFactory[] = [
        omnibusFactory(
          {
            createTransport: () =>
              new KafkaTransport({
                brokers: KAFKA_BROKERS,
                partitions: 3,
                clientId: 'omnibus-bench',
                ...extra,
              }),
            cleanup: (runId) => deleteKafkaTopics(KAFKA_BROKERS, runId),
          },
          `@omnibus/transport-kafka ${v('@omnibus/transport-kafka')} (kafkajs ${v('kafkajs')})`,
          {
            partitions: 3,
            retryTiersMs: 'default (4 retry topics)',
            delayTiersMs: 'default (4 delay topics)',
            fetchMaxWaitMs: 1000,
            trackAttempts: 'default (true: one start-bound commit per fetched batch)',
            commits: 'background, batched (10 ms linger)',
            ...extraSettings,
          },
        ),
        rawKafkaFactory({ brokers: KAFKA_BROKERS, partitions: 3, fetchMaxWaitMs: 1000 }, v('kafkajs')),
      ];
      if (context.nest !== undefined)
        subjects.push(nestKafkaFactory(context.nest, { brokers: KAFKA_BROKERS, partitions: 3 }));
      return {
        name,
        broker: 'kafka',
        messages: 20_000,
        settings: { brokers: KAFKA_BROKERS.join(','), partitions: 3 },
        subjects,
      };
    }
    case 'sqs': {
      const waitTimeSeconds = context.quick ? 1 : 20;
      const settings = {
        endpoint: SQS_ENDPOINT,
        maxPollers: 4,
        waitTimeSeconds,
        visibilityTimeoutSeconds: 30,
      };
      return {
        name,
        broker: 'sqs',
        messages: 2_000,
        settings: { endpoint: `${SQS_ENDPOINT} (ElasticMQ)`, fanOut: 'none' },
        subjects: [
          omnibusFactory(
            {
              createTransport: () =>
                new SqsTransport({
                  endpoint: SQS_ENDPOINT,
                  accessKeyId: 'x',
                  secretAccessKey: 'x',
                  fanOut: 'none',
                  queuePrefix: 'bench-',
                  waitTimeSeconds,
                  ...extra,
                }),
              cleanup: (runId) => deleteSqsQueues(SQS_ENDPOINT, runId),
            },
            `@omnibus/transport-sqs ${v('@omnibus/transport-sqs')} (@aws-sdk/client-sqs ${v('@aws-sdk/client-sqs')})`,
            {
              fanOut: 'none',
              maxPollers: 4,
              receiveBatchSize: 10,
              waitTimeSeconds,
              deletes: 'DeleteMessageBatch, coalesced (≤ 10, 5 ms linger)',
              ...extraSettings,
            },
            10,
          ),
          rawSqsFactory(settings, v('@aws-sdk/client-sqs')),
        ],
      };
    }
    case 'azure': {
      return {
        name,
        broker: 'azure',
        messages: 2_000,
        settings: { emulator: 'tools/servicebus-emulator (127.0.0.1:5673)' },
        subjects: [
          omnibusFactory(
            {
              createTransport: () =>
                new AzureServiceBusTransport({
                  connectionString: AZURE_CONNECTION_STRING,
                  provisioning: 'emulator',
                  emulatorAdminUrl: AZURE_ADMIN_URL,
                  prefix: AZURE_PREFIX,
                  ...extra,
                }),
              cleanup: async (_runId, destination) => {
                await emulatorAdmin(
                  AZURE_ADMIN_URL,
                  'DELETE',
                  `/topics/${encodeURIComponent(topicName(AZURE_PREFIX, destination))}`,
                );
              },
            },
            `@omnibus/transport-azure ${v('@omnibus/transport-azure')} (@azure/service-bus ${v('@azure/service-bus')})`,
            { provisioning: 'emulator', settle: 'peekLock, complete after the handler', ...extraSettings },
          ),
          rawAzureFactory(
            { connectionString: AZURE_CONNECTION_STRING, adminUrl: AZURE_ADMIN_URL },
            v('@azure/service-bus'),
          ),
        ],
      };
    }
    case 'nats': {
      const names = new NatsNames(NATS_PREFIX, 8);
      return {
        name,
        broker: 'nats',
        messages: 10_000,
        settings: { url: NATS_URL, storage: 'file' },
        subjects: [
          omnibusFactory(
            {
              createTransport: () =>
                new NatsTransport({ servers: [NATS_URL], prefix: NATS_PREFIX, ...extra }),
              cleanup: (_runId, destination) => deleteNatsStreams(NATS_URL, [names.stream(destination)]),
            },
            `@omnibus/transport-nats ${v('@omnibus/transport-nats')} (@nats-io/jetstream ${v('@nats-io/jetstream')})`,
            {
              storage: 'file (default)',
              duplicateWindowMs: '120000 (default, Nats-Msg-Id)',
              acks: 'double ack (confirmed) after the handler',
              pull: 'one request of free slots at a time, 5 s expiry',
              ...extraSettings,
            },
          ),
          rawNatsFactory({ url: NATS_URL }, v('@nats-io/jetstream')),
        ],
      };
    }
  }
}

export { BENCH_GROUP };
