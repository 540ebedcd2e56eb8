/**
 * The one seam between the adapter and its Kafka client library. Everything the adapter needs
 * from Kafka is declared here in broker terms; `kafkajs-client.ts` implements it with kafkajs and
 * is the only file that imports kafkajs, so the client can be swapped (e.g. for a librdkafka
 * binding) without touching the rest of the package.
 *
 * Implementations throw the client's own errors; the adapter maps them in
 * `kafka-error-mapper.ts`, which only inspects error shape (name, type, retriable, cause).
 */

/** A topic to create. */
export interface TopicSpec {
  readonly name: string;
  readonly partitions: number;
  readonly replicationFactor: number;
}

/** What exists on the broker for one topic. */
export interface TopicInfo {
  readonly name: string;
  readonly partitions: number;
}

/** A record to produce. Header values are strings (UTF-8 on the wire). */
export interface OutgoingRecord {
  /** Record key: decides the partition (murmur2, Java-client compatible) and per-key order. */
  readonly key?: string;
  readonly value: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
}

/** The offset range of one partition: records `low` … `high − 1` exist. Offsets as decimal strings. */
export interface PartitionRange {
  readonly partition: number;
  /** First offset still in the log. */
  readonly low: string;
  /** Offset the next produced record will get. */
  readonly high: string;
}

/** Records for one topic, produced together. */
export interface TopicRecords {
  readonly topic: string;
  readonly records: readonly OutgoingRecord[];
}

/** A record as fetched. Header values are decoded as UTF-8 (the last value wins if repeated). */
export interface ReceivedRecord {
  readonly topic: string;
  readonly partition: number;
  /** Offset as a decimal string (64-bit). */
  readonly offset: string;
  readonly key?: string;
  readonly value: Uint8Array;
  readonly headers: Readonly<Record<string, string>>;
  /** The record timestamp (producer create time unless the topic uses log-append time). */
  readonly timestamp: Date;
}

/** The records of one fetched batch (one topic-partition). */
export interface ReceivedBatch {
  readonly topic: string;
  readonly partition: number;
  readonly records: readonly ReceivedRecord[];
  /**
   * Send a group heartbeat if one is due. Rejects when the group is rebalancing; the batch
   * handler must then let the rejection propagate so the client re-joins.
   */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping. */
  isRunning(): boolean;
}

/** A committed position: the offset of the next record to consume, plus optional metadata. */
export interface CommitOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: string;
  readonly metadata?: string;
}

/** One partition's range plus a group's position in it, offsets as decimal strings. */
export interface PartitionOffsets extends PartitionRange {
  /** The group's committed offset (next record to consume), `-1` when it never committed. */
  readonly committed: string;
}

/** One topic's partitions. */
export interface TopicPartitions {
  readonly topic: string;
  readonly partitions: readonly number[];
}

/** Consumer-group lifecycle callbacks. They must not throw; they are not awaited. */
export interface ConsumerListeners {
  /** The member joined (or re-joined) the group and received this assignment. */
  onJoin(assignment: readonly TopicPartitions[]): void;
  /** A rebalance started: the member is about to re-join (partitions may be revoked). */
  onRebalancing(): void;
  /** The consumer crashed. `willRestart`: the client restarts it by itself after a delay. */
  onCrash(error: Error, willRestart: boolean): void;
}

/** Settings of one consumer-group member. */
export interface ConsumerConfig {
  readonly groupId: string;
  readonly topics: readonly string[];
  /** Where a group without a committed offset starts: the earliest record or only new ones. */
  readonly fromBeginning: boolean;
  readonly sessionTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxWaitTimeMs: number;
  /** How many fetched batches (partitions) are handed to `onBatch` at once. */
  readonly partitionsConsumedConcurrently: number;
}

/**
 * One consumer-group member. Offsets are never committed implicitly: only {@link commit}
 * commits (auto-commit is off).
 */
export interface ConsumerPort {
  /**
   * Connect, subscribe and start the fetch loop; resolves once the member joined the group.
   * `onBatch` is awaited per batch; the records of a batch are considered fetched (the fetch
   * position moves past them) when it resolves, committed or not.
   */
  start(onBatch: (batch: ReceivedBatch) => Promise<void>, listeners: ConsumerListeners): Promise<void>;
  /** Stop fetching from these partitions (until {@link resume}); survives re-joins. */
  pause(partitions: readonly TopicPartitions[]): void;
  /** Fetch from these partitions again. */
  resume(partitions: readonly TopicPartitions[]): void;
  /** Commit positions with the member's current generation. Rejects on failure. */
  commit(offsets: readonly CommitOffset[]): Promise<void>;
  /** Read the group's committed positions (with their metadata) for some partitions. */
  fetchCommitted(partitions: readonly TopicPartitions[]): Promise<CommitOffset[]>;
  /** Stop fetching, leave the group and disconnect. Idempotent. */
  stop(): Promise<void>;
  /** The client's consumer object (escape hatch). */
  raw(): unknown;
}

/** The client: admin, producer and consumer factory over one set of connection settings. */
export interface KafkaClientPort {
  /** Connect the admin client and the producer. Rejects when the cluster is unreachable. */
  connect(): Promise<void>;
  /** Create topics that do not exist yet and wait for their partition leaders. */
  createTopics(topics: readonly TopicSpec[]): Promise<void>;
  /** The topics among `names` that exist, with their partition counts. */
  describeTopics(names: readonly string[]): Promise<TopicInfo[]>;
  /** The names of every topic in the cluster (one metadata request). */
  listTopics(): Promise<string[]>;
  /** Each partition's earliest (`low`) and next (`high`) offset of `topic`, as decimal strings. */
  topicOffsets(topic: string): Promise<PartitionRange[]>;
  /** Delete consumer groups (e.g. a finished scan's throwaway group). Best effort is the caller's call. */
  deleteGroups(groupIds: readonly string[]): Promise<void>;
  /**
   * Delete existing topics with their records; `timeoutMs` is how long the controller may take.
   * Callers pass only topics that exist (kafkajs retries an unknown topic until its retries end).
   */
  deleteTopics(topics: readonly string[], timeoutMs: number): Promise<void>;
  /**
   * Produce with acks from all in-sync replicas through the idempotent producer. Resolves once
   * the broker acknowledged every record; rejects otherwise.
   */
  send(batches: readonly TopicRecords[]): Promise<void>;
  /** A new, not yet started consumer-group member. */
  createConsumer(config: ConsumerConfig): ConsumerPort;
  /**
   * Per partition of `topic`: the group's committed offset (`-1` when none) and the topic's low
   * and high watermarks, read through the admin client (no consumer involved). Rejects when the
   * topic does not exist or the cluster cannot be asked.
   */
  groupOffsets(groupId: string, topic: string): Promise<PartitionOffsets[]>;
  /** Disconnect the admin client and the producer. Idempotent. */
  disconnect(): Promise<void>;
  /** The underlying client objects (escape hatch). */
  raw(): unknown;
}
