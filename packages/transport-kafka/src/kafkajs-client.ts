import { Kafka, Partitioners, logLevel as KafkaLogLevel } from 'kafkajs';
import type {
  Admin,
  ICustomPartitioner,
  Consumer,
  EachBatchPayload,
  IHeaders,
  KafkaConfig,
  KafkaMessage,
  LogEntry,
  Producer,
  SASLOptions,
} from 'kafkajs';
import type {
  CommitOffset,
  ConsumerConfig,
  ConsumerListeners,
  ConsumerPort,
  KafkaClientPort,
  PartitionOffsets,
  PartitionRange,
  ReceivedBatch,
  ReceivedRecord,
  TopicInfo,
  TopicPartitions,
  TopicRecords,
  TopicSpec,
} from './kafka-client-port.js';

/** Connection settings of {@link KafkajsClient}. Secrets stay in here; nothing logs them. */
export interface KafkajsClientOptions {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly publishRetries: number;
  readonly ssl: boolean;
  readonly sslCa?: string;
  readonly sslRejectUnauthorized: boolean;
  readonly saslMechanism?: string;
  readonly saslUsername?: string;
  readonly saslPassword?: string;
  readonly logLevel: string;
}

const LOG_LEVELS: Readonly<Record<string, KafkaLogLevel>> = {
  nothing: KafkaLogLevel.NOTHING,
  error: KafkaLogLevel.ERROR,
  warn: KafkaLogLevel.WARN,
  info: KafkaLogLevel.INFO,
  debug: KafkaLogLevel.DEBUG,
};

/** Least time a new consumer gets to join its group before `start` gives up. */
const JOIN_TIMEOUT_MS = 30_000;
/** How long topic creation waits for partition leaders. */
const LEADER_WAIT_MS = 30_000;

/**
 * {@link KafkaClientPort} implemented with kafkajs 2.x: the only module that imports kafkajs.
 * One admin client and one idempotent producer (acks = all) per instance, consumers created on
 * demand. Connection loss is handled by kafkajs retries; consumers restart after crashes
 * (`restartOnFailure`).
 */
export class KafkajsClient implements KafkaClientPort {
  readonly #kafka: Kafka;
  readonly #admin: Admin;
  readonly #publishRetries: number;
  #producer: Producer;
  #producerConnected: Promise<void> | undefined;
  #disconnected = false;

  constructor(options: KafkajsClientOptions) {
    this.#kafka = new Kafka(kafkaConfig(options));
    this.#admin = this.#kafka.admin();
    this.#publishRetries = options.publishRetries;
    this.#producer = this.#newProducer();
  }

  async connect(): Promise<void> {
    await this.#admin.connect();
    await this.#connectProducer();
  }

  async createTopics(topics: readonly TopicSpec[]): Promise<void> {
    if (topics.length === 0) return;
    // kafkajs' own leader wait gives up on UNKNOWN_TOPIC_OR_PARTITION, which a fresh KRaft
    // broker answers for a moment after creation, and skips waiting when some topics already
    // existed; so wait here, tolerating both.
    await this.#admin.createTopics({
      waitForLeaders: false,
      timeout: LEADER_WAIT_MS,
      topics: topics.map((t) => ({
        topic: t.name,
        numPartitions: t.partitions,
        replicationFactor: t.replicationFactor,
      })),
    });
    await this.#waitForLeaders(topics.map((t) => t.name));
  }

  async groupOffsets(groupId: string, topic: string): Promise<PartitionOffsets[]> {
    const [ends, committed] = await Promise.all([
      this.#admin.fetchTopicOffsets(topic),
      this.#admin.fetchOffsets({ groupId, topics: [topic] }),
    ]);
    const byPartition = new Map(
      (committed.find((t) => t.topic === topic)?.partitions ?? []).map((p) => [p.partition, p.offset]),
    );
    return ends.map((e) => ({
      partition: e.partition,
      committed: byPartition.get(e.partition) ?? '-1',
      low: e.low,
      high: e.high,
    }));
  }

  listTopics(): Promise<string[]> {
    return this.#admin.listTopics();
  }

  async topicOffsets(topic: string): Promise<PartitionRange[]> {
    const offsets = await this.#admin.fetchTopicOffsets(topic);
    return offsets.map((o) => ({ partition: o.partition, low: o.low, high: o.high }));
  }

  async deleteGroups(groupIds: readonly string[]): Promise<void> {
    if (groupIds.length > 0) await this.#admin.deleteGroups([...groupIds]);
  }

  async deleteTopics(topics: readonly string[], timeoutMs: number): Promise<void> {
    if (topics.length > 0) await this.#admin.deleteTopics({ topics: [...topics], timeout: timeoutMs });
  }

  async describeTopics(names: readonly string[]): Promise<TopicInfo[]> {
    if (names.length === 0) return [];
    const all = new Set(await this.#admin.listTopics());
    const existing = names.filter((name) => all.has(name));
    if (existing.length === 0) return [];
    const { topics } = await this.#admin.fetchTopicMetadata({ topics: existing });
    return topics.map((t) => ({ name: t.name, partitions: t.partitions.length }));
  }

  /**
   * One `sendBatch` through the idempotent producer. After a failed send the producer is
   * replaced (new producer id): kafkajs rolls its sequence numbers back on any error, so after an
   * ambiguous failure (the broker appended the batch but the reply was lost, e.g. during a broker
   * restart) the *next* record would reuse the sequence and be dropped by the broker as a
   * duplicate while reported as written. A fresh producer id can never collide.
   */
  async send(batches: readonly TopicRecords[]): Promise<void> {
    if (this.#disconnected) throw new Error('the Kafka client is disconnected');
    await this.#connectProducer();
    const producer = this.#producer;
    try {
      await producer.sendBatch({
        acks: -1,
        topicMessages: batches.map((b) => ({
          topic: b.topic,
          messages: b.records.map((r) => ({
            key: r.key ?? null,
            value: Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength),
            headers: { ...r.headers },
          })),
        })),
      });
    } catch (error) {
      if (this.#producer === producer) {
        this.#producer = this.#newProducer();
        this.#producerConnected = undefined;
        producer.disconnect().catch(() => undefined);
      }
      throw error;
    }
  }

  createConsumer(config: ConsumerConfig): ConsumerPort {
    const consumer = this.#kafka.consumer({
      groupId: config.groupId,
      sessionTimeout: config.sessionTimeoutMs,
      rebalanceTimeout: config.rebalanceTimeoutMs,
      heartbeatInterval: config.heartbeatIntervalMs,
      maxWaitTimeInMs: config.maxWaitTimeMs,
      allowAutoTopicCreation: false,
      // Short back-off (≤ 5 s) so a consumer resumes soon after the broker is back; restarts
      // after crashes are unconditional (the adapter decides when to give up: never, until close).
      retry: {
        initialRetryTime: 300,
        maxRetryTime: 5000,
        retries: 5,
        restartOnFailure: () => Promise.resolve(true),
      },
    });
    return new KafkajsConsumer(consumer, this.#admin, config);
  }

  async disconnect(): Promise<void> {
    this.#disconnected = true;
    this.#producerConnected = undefined;
    await Promise.allSettled([this.#producer.disconnect(), this.#admin.disconnect()]);
  }

  raw(): { kafka: Kafka; admin: Admin; producer: Producer } {
    return { kafka: this.#kafka, admin: this.#admin, producer: this.#producer };
  }

  #newProducer(): Producer {
    return this.#kafka.producer({
      idempotent: true,
      maxInFlightRequests: 5,
      allowAutoTopicCreation: false,
      createPartitioner: stablePartitioner,
      retry: { retries: this.#publishRetries, maxRetryTime: 5000 },
    });
  }

  /** Connect the current producer once (again after it was replaced). */
  #connectProducer(): Promise<void> {
    if (this.#producerConnected === undefined) {
      const connecting = this.#producer.connect();
      this.#producerConnected = connecting;
      connecting.catch(() => {
        if (this.#producerConnected === connecting) this.#producerConnected = undefined;
      });
    }
    return this.#producerConnected;
  }

  async #waitForLeaders(names: readonly string[]): Promise<void> {
    const deadline = Date.now() + LEADER_WAIT_MS;
    for (;;) {
      try {
        const { topics } = await this.#admin.fetchTopicMetadata({ topics: [...names] });
        if (topics.every((t) => t.partitions.length > 0 && t.partitions.every((p) => p.leader >= 0))) return;
      } catch (error) {
        if (Date.now() > deadline) throw error;
      }
      if (Date.now() > deadline) throw new Error(`Timed out waiting for leaders of ${names.join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/** One kafkajs consumer behind {@link ConsumerPort}; remembers paused partitions across restarts. */
class KafkajsConsumer implements ConsumerPort {
  readonly #consumer: Consumer;
  readonly #admin: Admin;
  readonly #config: ConsumerConfig;
  readonly #paused = new Map<string, Set<number>>();
  readonly #disposers: (() => void)[] = [];
  #stopped = false;

  constructor(consumer: Consumer, admin: Admin, config: ConsumerConfig) {
    this.#consumer = consumer;
    this.#admin = admin;
    this.#config = config;
  }

  async start(onBatch: (batch: ReceivedBatch) => Promise<void>, listeners: ConsumerListeners): Promise<void> {
    const c = this.#consumer;
    let joined!: () => void;
    let failed!: (error: Error) => void;
    let lastError: Error | undefined;
    const firstJoin = new Promise<void>((resolve, reject) => {
      joined = resolve;
      failed = reject;
    });
    firstJoin.catch(() => undefined); // observed below; a crash after the first join is not an error here
    // Transient crashes (coordinator loading, broker restarting) are restarted by kafkajs: keep
    // waiting for the first join, bounded.
    const joinTimeoutMs = Math.max(
      JOIN_TIMEOUT_MS,
      this.#config.sessionTimeoutMs + this.#config.rebalanceTimeoutMs,
    );
    const timer = setTimeout(
      () => failed(lastError ?? new Error(`no group join within ${String(joinTimeoutMs)} ms`)),
      joinTimeoutMs,
    );
    this.#disposers.push(
      c.on(c.events.GROUP_JOIN, (event) => {
        this.#applyPauses();
        const assignment = Object.entries(event.payload.memberAssignment).map(([topic, partitions]) => ({
          topic,
          partitions: [...partitions],
        }));
        listeners.onJoin(assignment);
        joined();
      }),
      c.on(c.events.REBALANCING, () => listeners.onRebalancing()),
      c.on(c.events.CRASH, (event) => {
        const error = event.payload.error;
        listeners.onCrash(error, event.payload.restart);
        lastError = error;
        if (!event.payload.restart) failed(error);
      }),
    );
    const steps = (async () => {
      await c.connect();
      await c.subscribe({ topics: [...this.#config.topics], fromBeginning: this.#config.fromBeginning });
      await c.run({
        autoCommit: false,
        eachBatchAutoResolve: true,
        partitionsConsumedConcurrently: this.#config.partitionsConsumedConcurrently,
        eachBatch: (payload) => onBatch(toReceivedBatch(payload)),
      });
    })();
    steps.catch(() => undefined); // observed below
    try {
      // The join bound covers connect and subscribe too: a coordinator that accepts the connection
      // but never answers must not keep start() (and bus.start()) waiting forever.
      await Promise.race([steps, firstJoin]);
      await steps;
      await firstJoin;
    } finally {
      clearTimeout(timer);
    }
  }

  pause(partitions: readonly TopicPartitions[]): void {
    for (const { topic, partitions: list } of partitions) {
      const set = this.#paused.get(topic) ?? new Set<number>();
      for (const p of list) set.add(p);
      this.#paused.set(topic, set);
    }
    this.#tryApply(() =>
      this.#consumer.pause(partitions.map((p) => ({ topic: p.topic, partitions: [...p.partitions] }))),
    );
  }

  resume(partitions: readonly TopicPartitions[]): void {
    for (const { topic, partitions: list } of partitions) {
      const set = this.#paused.get(topic);
      for (const p of list) set?.delete(p);
    }
    this.#tryApply(() =>
      this.#consumer.resume(partitions.map((p) => ({ topic: p.topic, partitions: [...p.partitions] }))),
    );
  }

  async commit(offsets: readonly CommitOffset[]): Promise<void> {
    if (offsets.length === 0) return;
    if (this.#stopped) throw new Error('consumer stopped: offsets not committed');
    await this.#consumer.commitOffsets(
      offsets.map((o) => ({
        topic: o.topic,
        partition: o.partition,
        offset: o.offset,
        metadata: o.metadata ?? null,
      })),
    );
  }

  async fetchCommitted(partitions: readonly TopicPartitions[]): Promise<CommitOffset[]> {
    if (partitions.length === 0) return [];
    const wanted = new Map(partitions.map((p) => [p.topic, new Set(p.partitions)]));
    const results = await this.#admin.fetchOffsets({
      groupId: this.#config.groupId,
      topics: [...wanted.keys()],
    });
    const out: CommitOffset[] = [];
    for (const { topic, partitions: list } of results) {
      for (const p of list) {
        if (wanted.get(topic)?.has(p.partition) !== true) continue;
        const entry = { topic, partition: p.partition, offset: p.offset };
        out.push(p.metadata === null ? entry : { ...entry, metadata: p.metadata });
      }
    }
    return out;
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    for (const dispose of this.#disposers.splice(0)) dispose();
    await this.#consumer.disconnect();
  }

  raw(): Consumer {
    return this.#consumer;
  }

  #applyPauses(): void {
    const list = [...this.#paused]
      .filter(([, set]) => set.size > 0)
      .map(([topic, set]) => ({ topic, partitions: [...set] }));
    if (list.length > 0) this.#tryApply(() => this.#consumer.pause(list));
  }

  #tryApply(action: () => void): void {
    try {
      action();
    } catch {
      // Not running right now (between a crash and its restart): re-applied on the next join.
    }
  }
}

/** Header whose value spreads key-less records over partitions (the CloudEvents id). */
const SPREAD_HEADER = 'ce-id';

/**
 * kafkajs' default partitioner (murmur2, Java-compatible) for keyed records; key-less records go
 * to a partition derived from their message id instead of a round-robin counter. kafkajs
 * re-partitions a whole request when it retries one (e.g. NOT_LEADER right after topic creation);
 * with round-robin, records already written would then be resent to other partitions with reused
 * sequence numbers, which the broker rejects as OUT_OF_ORDER_SEQUENCE_NUMBER. A stable choice
 * keeps retries identical.
 */
const stablePartitioner: ICustomPartitioner = () => {
  const keyed = Partitioners.DefaultPartitioner();
  return (args) => {
    const { message, partitionMetadata } = args;
    if (message.key !== null && message.key !== undefined) return keyed(args);
    const raw = message.headers?.[SPREAD_HEADER];
    const id = Array.isArray(raw) ? raw[0] : raw;
    if (id === undefined || partitionMetadata.length === 0) return keyed(args);
    const ids = partitionMetadata.map((p) => p.partitionId).sort((a, b) => a - b);
    return ids[fnv1a(id.toString()) % ids.length] as number;
  };
};

/** 32-bit FNV-1a hash of a string's UTF-16 code units (spreading only, not security). */
function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

function toReceivedBatch(payload: EachBatchPayload): ReceivedBatch {
  const { topic, partition } = payload.batch;
  return {
    topic,
    partition,
    records: payload.batch.messages.map((m) => toReceivedRecord(topic, partition, m)),
    heartbeat: () => payload.heartbeat(),
    isRunning: () => payload.isRunning() && !payload.isStale(),
  };
}

function toReceivedRecord(topic: string, partition: number, message: KafkaMessage): ReceivedRecord {
  const value = message.value ?? EMPTY;
  const key = message.key;
  const record: { -readonly [K in keyof ReceivedRecord]: ReceivedRecord[K] } = {
    topic,
    partition,
    offset: message.offset,
    value: new Uint8Array(value.buffer, value.byteOffset, value.byteLength),
    headers: decodeHeaders(message.headers),
    timestamp: new Date(Number(message.timestamp)),
  };
  if (key !== null && key !== undefined) record.key = key.toString('utf8');
  return record;
}

const EMPTY = Buffer.alloc(0);

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers === undefined) return out;
  for (const name in headers) {
    const raw = headers[name];
    const value = Array.isArray(raw) ? raw[raw.length - 1] : raw;
    if (value !== undefined) out[name] = typeof value === 'string' ? value : value.toString('utf8');
  }
  return out;
}

function kafkaConfig(options: KafkajsClientOptions): KafkaConfig {
  const config: KafkaConfig = {
    brokers: [...options.brokers],
    clientId: options.clientId,
    connectionTimeout: options.connectionTimeoutMs,
    requestTimeout: options.requestTimeoutMs,
    logLevel: LOG_LEVELS[options.logLevel] ?? KafkaLogLevel.NOTHING,
    // Admin and cluster requests: bounded back-off, so work resumes within seconds of a restart.
    retry: { initialRetryTime: 300, maxRetryTime: 5000, retries: 8 },
    logCreator: () => (entry: LogEntry) => {
      process.stderr.write(`[kafkajs] ${entry.label} ${entry.namespace}: ${entry.log.message}\n`);
    },
  };
  if (options.ssl) {
    config.ssl =
      options.sslCa === undefined
        ? { rejectUnauthorized: options.sslRejectUnauthorized }
        : { ca: [options.sslCa], rejectUnauthorized: options.sslRejectUnauthorized };
  }
  if (
    options.saslMechanism !== undefined &&
    options.saslUsername !== undefined &&
    options.saslPassword !== undefined
  ) {
    config.sasl = {
      mechanism: options.saslMechanism,
      username: options.saslUsername,
      password: options.saslPassword,
    } as SASLOptions;
  }
  return config;
}
