import type { BenchPayload, PayloadCodec } from '../payload.js';

/** Who does the work: the framework, the raw client written by hand, or a peer framework. */
export type SubjectKind = 'omnibus' | 'raw' | 'nestjs';

/** What one run asks of a subject. */
export interface SubjectSpec {
  /** Unique per run; subjects build every destination/queue/topic/group name from it. */
  readonly runId: string;
  /** Most handlers running at once (the framework's `concurrency`; the raw client's limit). */
  readonly concurrency: number;
  /** The handler's work. The subject acks/commits/deletes only after it resolved. */
  readonly onMessage: (payload: BenchPayload) => void | Promise<void>;
  /** Payload codec (default JSON). Subjects that support only JSON ignore it (in-memory subjects honour it). */
  readonly codec?: PayloadCodec;
  /** Encoded size of a pass-through payload (default 1024). */
  readonly sizeBytes?: number;
}

/**
 * One implementation under test on one transport. Life cycle: {@link open} (topology exists,
 * producer connected, no consumer yet) → publishes → {@link startConsumer} → {@link close}.
 * Publishes resolve only once the broker durably accepted the messages.
 */
export interface Subject {
  open(): Promise<void>;
  publish(payload: BenchPayload): Promise<void>;
  publishBatch(payloads: readonly BenchPayload[]): Promise<void>;
  /** Start consuming; resolves once the consumer is attached (e.g. joined its Kafka group). */
  startConsumer(): Promise<void>;
  /** Stop consumer and producer, then delete what the run created (best effort). */
  close(): Promise<void>;
}

/** Creates subjects of one kind for one transport. */
export interface SubjectFactory {
  readonly kind: SubjectKind;
  /** Short label for reports, e.g. "kafkajs 2.2.4 (eachBatch, commit after handling)". */
  readonly label: string;
  /** Effective client settings, printed with every result. */
  readonly settings: Readonly<Record<string, unknown>>;
  /** Largest batch `publishBatch` should be given (SQS: 10). */
  readonly maxBatch?: number;
  /** Most handlers this subject can have running at once whatever the concurrency (Nest on Kafka: one per partition). */
  readonly maxInFlight?: number;
  create(spec: SubjectSpec): Subject;
}
