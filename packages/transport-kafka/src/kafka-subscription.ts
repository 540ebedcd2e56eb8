import { KeyedDispatcher, WireHeaders, envelopeFromWire } from '@omnibus/core';
import type { DeliveryHandler, Subscription, SubscriptionSpec } from '@omnibus/core';
import { SettleOnceDelivery, retryInPlace } from '@omnibus/core/adapter-kit';
import type { InPlaceSteps } from '@omnibus/core/adapter-kit';
import type {
  ConsumerConfig,
  ConsumerListeners,
  ConsumerPort,
  KafkaClientPort,
  OutgoingRecord,
  ReceivedBatch,
  ReceivedRecord,
  TopicPartitions,
} from './kafka-client-port.js';
import { RELEASE_DELAY_MS } from './kafka-delivery.js';
import type { CustodyItem } from './kafka-delivery.js';
import { DueScheduler } from './due-scheduler.js';
import { mapKafkaError } from './kafka-error-mapper.js';
import { readAttempt, readDueAt } from './kafka-headers.js';
import type { KafkaNaming } from './kafka-naming.js';
import { OffsetCommitter } from './offset-committer.js';
import { PartitionWatermark } from './partition-watermark.js';
import { KafkaRecordSettler } from './record-settler.js';
import { WakeableSleep } from './wakeable-sleep.js';

/** Consumer settings shared by every subscription of a transport. */
export type ConsumerTuning = Pick<
  ConsumerConfig,
  'fromBeginning' | 'sessionTimeoutMs' | 'rebalanceTimeoutMs' | 'heartbeatIntervalMs' | 'maxWaitTimeMs'
>;

/** What {@link KafkaSubscription} needs from its transport. */
export interface KafkaSubscriptionDeps {
  readonly client: KafkaClientPort;
  readonly naming: KafkaNaming;
  readonly spec: SubscriptionSpec;
  readonly onDelivery: DeliveryHandler;
  /** Topics consumed: the main topic, the destination's delay topics, the group's retry topics. */
  readonly topics: readonly string[];
  readonly tuning: ConsumerTuning;
  readonly retryTiersMs: readonly number[];
  /** The transport's `maxRetryDelayMs`: longer retries are refused. */
  readonly maxRetryDelayMs: number;
  /**
   * Carry attempt numbers as offset metadata, so the next owner continues the count after a
   * crash or close: one commit of a start bound per fetched batch before its records start, and
   * a commit before each re-run of a record that already started once (see
   * {@link PartitionWatermark}).
   */
  readonly trackAttempts: boolean;
  /** Produce records (retry and dead-letter copies); resolves once acknowledged. */
  publish(topic: string, records: readonly OutgoingRecord[]): Promise<void>;
  /** Health reports: false after a consumer crash, true after a (re-)join. */
  onHealth(healthy: boolean, error?: Error): void;
  /** A handler promise rejected (the router should settle everything itself). */
  onError(error: unknown): void;
}

/** Most not-yet-due records held per partition before it is paused. */
const MAX_HELD_PER_PARTITION = 1000;
/**
 * How long a closing subscription keeps its partitions while in-flight handlers finish, before
 * it leaves the group so other members take over its unstarted records (it keeps draining).
 */
const LEAVE_GRACE_MS = 1000;
/**
 * How long settled offsets wait before their background commit, so one commit request carries
 * the acks of many records (the commit position only covers the settled prefix either way).
 */
const COMMIT_LINGER_MS = 10;
/** Pause between commit attempts while the consumer is down or re-joining. */
const COMMIT_RETRY_MS = 250;
/** Longest a closing subscription waits for its final commit. */
const FINAL_COMMIT_TIMEOUT_MS = 5000;
/** Longest a closing subscription waits for its consumer to leave the group and disconnect. */
const CONSUMER_STOP_TIMEOUT_MS = 15_000;
/** Back-off bounds when the adapter itself must restart a consumer the client gave up on. */
const RESTART_MIN_MS = 1000;
const RESTART_MAX_MS = 10_000;

const noop = (): void => undefined;

/**
 * One consumer-group member for one (destination, group): intake, concurrency, settlement and
 * offset commits. Life cycle: {@link start} joins the group; {@link close} drains.
 *
 * - Intake: every fetched record is taken into custody (tracked by its partition's
 *   {@link PartitionWatermark}) and handed to a {@link KeyedDispatcher}: concurrency across
 *   partitions and keys, one at a time per key when ordered. Fetching blocks (with heartbeats)
 *   while the dispatcher is full. Records on delay/retry topics wait for their due time first.
 * - Commits: only settled prefixes, per partition, via the {@link OffsetCommitter}, in the
 *   background: an ack frees its handler slot at once and the settled prefix is committed a few
 *   milliseconds later together with every other ack meanwhile (retried through restarts and
 *   re-joins), when a rebalance starts and on close. Revoked partitions are dropped
 *   (their unsettled records go to the new owner); records fetched again after a re-join are
 *   skipped when already in custody.
 * - Faults: the client restarts crashed consumers; when it gives up, this class replaces the
 *   consumer with back-off until it joins again or the subscription closes.
 */
export class KafkaSubscription implements Subscription {
  readonly #deps: KafkaSubscriptionDeps;
  readonly #groupId: string;
  readonly #watermarks = new Map<string, PartitionWatermark>();
  readonly #ready = new Map<string, Promise<void>>();
  readonly #dispatcher: KeyedDispatcher<CustodyItem>;
  readonly #scheduler: DueScheduler<CustodyItem>;
  readonly #committer: OffsetCommitter;
  readonly #settler: KafkaRecordSettler;
  /** Deliveries whose handler is running: released when the subscription leaves the group. */
  readonly #inFlight = new Set<SettleOnceDelivery<CustodyItem>>();
  readonly #steps: InPlaceSteps<CustodyItem>;
  /** Back-offs and in-place retry delays, all woken when the subscription closes. */
  readonly #delays = new WakeableSleep();
  #consumer: ConsumerPort | undefined;
  /** The pending background commit (linger or retry), if any. */
  #commitTimer: NodeJS.Timeout | undefined;
  #started = false;
  #restarting = false;
  #closing = false;
  #closed: Promise<void> | undefined;

  constructor(deps: KafkaSubscriptionDeps) {
    this.#deps = deps;
    this.#groupId = deps.naming.groupId(deps.spec.destination, deps.spec.group);
    this.#dispatcher = new KeyedDispatcher<CustodyItem>({
      concurrency: deps.spec.concurrency,
      ordered: deps.spec.ordered,
      run: (item) => this.#run(item),
      onError: (error) => deps.onError(error),
    });
    this.#scheduler = new DueScheduler<CustodyItem>({
      maxHeldPerPartition: MAX_HELD_PER_PARTITION,
      onDue: (item) => this.#dispatch(item),
      pause: (key) => this.#setPaused([key], true),
      resume: (key) => this.#setPaused([key], false),
    });
    this.#committer = new OffsetCommitter({
      watermarks: () => this.#watermarks.values(),
      commit: (offsets) =>
        this.#consumer === undefined
          ? Promise.reject(new Error('no consumer'))
          : this.#consumer.commit(offsets),
    });
    this.#settler = new KafkaRecordSettler({
      destination: deps.spec.destination,
      group: deps.spec.group,
      ordered: deps.spec.ordered,
      maxRetryDelayMs: deps.maxRetryDelayMs,
      retryTiersMs: deps.retryTiersMs,
      naming: deps.naming,
      requestCommit: () => this.#scheduleCommit(COMMIT_LINGER_MS),
      publish: (topic, records) => deps.publish(topic, records),
    });
    this.#steps = {
      begin: (item, attempt) => this.#recordStart(item, attempt),
      deliver: (item, attempt) => this.#deliverOnce(item, attempt),
      sleep: (ms) => this.#sleep(ms),
      // A retry or dead-letter copy that could not be produced: the record is still in custody;
      // run the same attempt again after a pause.
      // An ack only marks the watermark and cannot fail: no promise for the common case.
      rerunDelayMs: (delivery) =>
        delivery.settlement === 'acked' ? undefined : delivery.settledOk().then(rerunUnlessOk),
    };
  }

  /** Join the group; resolves once this member has its first assignment. Rejects typed. */
  async start(): Promise<void> {
    const consumer = this.#newConsumer();
    this.#consumer = consumer;
    try {
      await consumer.start((batch) => this.#onBatch(batch), this.#listeners());
    } catch (error) {
      await consumer.stop().catch(noop);
      throw mapKafkaError(error, 'subscribe', this.#groupId);
    }
    this.#started = true;
  }

  close(drainTimeoutMs: number): Promise<void> {
    this.#closed ??= this.#close(drainTimeoutMs);
    return this.#closed;
  }

  /** The kafkajs consumer (escape hatch). */
  raw(): unknown {
    return this.#consumer?.raw();
  }

  /**
   * Stop intake (pause, drop unstarted and held records, wake in-place retries), let in-flight
   * handlers finish for a short grace, commit, leave the group (other members take over at
   * once), then keep draining until `drainTimeoutMs`. Settlements while it drains after leaving
   * cannot commit: they resolve, and the partitions' new owners may deliver those records again
   * (K5). Deliveries still unsettled when the drain ends are released: a later settlement
   * rejects with `SETTLEMENT_FAILED` and the records come back to the group (C9).
   */
  async #close(drainTimeoutMs: number): Promise<void> {
    const deadline = Date.now() + drainTimeoutMs;
    this.#closing = true;
    this.#setPaused([...this.#watermarks.keys()], true);
    this.#scheduler.clear();
    this.#dispatcher.stop();
    this.#delays.wakeAll();
    await this.#dispatcher.drain(Math.min(drainTimeoutMs, LEAVE_GRACE_MS));
    clearTimeout(this.#commitTimer);
    this.#commitTimer = undefined;
    for (const watermark of this.#watermarks.values()) watermark.precise();
    await this.#finalCommit(Date.now() + FINAL_COMMIT_TIMEOUT_MS);
    for (const watermark of this.#watermarks.values()) watermark.revoke();
    await withTimeout(this.#consumer?.stop().catch(noop) ?? Promise.resolve(), CONSUMER_STOP_TIMEOUT_MS);
    const left = deadline - Date.now();
    if (left > 0) await this.#dispatcher.drain(left);
    for (const delivery of this.#inFlight) delivery.release();
  }

  /**
   * Commit every settled position before leaving, retrying a failed commit (a rebalance or a
   * broker hiccup) until `deadline`: acks resolve before their commit, so a clean close must
   * not drop one (the next member would deliver an acked record again).
   */
  async #finalCommit(deadline: number): Promise<void> {
    for (;;) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      let failed = false;
      await withTimeout(
        this.#committer.flush().catch(() => {
          failed = true;
        }),
        left,
      );
      if (!failed || Date.now() + COMMIT_RETRY_MS >= deadline) return;
      await new Promise((resolve) => setTimeout(resolve, COMMIT_RETRY_MS));
    }
  }

  #newConsumer(): ConsumerPort {
    const { tuning, topics, spec } = this.#deps;
    return this.#deps.client.createConsumer({
      ...tuning,
      groupId: this.#groupId,
      topics,
      partitionsConsumedConcurrently: Math.min(8, Math.max(2, spec.concurrency)),
    });
  }

  #listeners(): ConsumerListeners {
    return {
      onJoin: (assignment) => this.#onJoin(assignment),
      onRebalancing: () => {
        this.#committer.flush().catch(noop);
      },
      onCrash: (error, willRestart) => {
        if (this.#closing) return;
        this.#deps.onHealth(false, error);
        if (!willRestart && this.#started) void this.#restart();
      },
    };
  }

  #onJoin(assignment: readonly TopicPartitions[]): void {
    const current = new Set<string>();
    const fresh: PartitionWatermark[] = [];
    for (const { topic, partitions } of assignment) {
      for (const partition of partitions) {
        const key = partitionKey(topic, partition);
        current.add(key);
        const existing = this.#watermarks.get(key);
        if (existing !== undefined) {
          existing.forgetCommitted();
          continue;
        }
        const watermark = new PartitionWatermark(topic, partition);
        this.#watermarks.set(key, watermark);
        fresh.push(watermark);
      }
    }
    for (const [key, watermark] of this.#watermarks) {
      if (current.has(key)) continue;
      watermark.revoke();
      this.#watermarks.delete(key);
      this.#ready.delete(key);
      this.#scheduler.dropPartition(key);
    }
    if (this.#deps.trackAttempts && fresh.length > 0) this.#seed(fresh);
    if (this.#closing) this.#setPaused([...current], true);
    this.#committer.flush().catch(noop);
    this.#deps.onHealth(true);
  }

  /**
   * Commit the settled prefixes in the background after `delayMs` (coalescing every request
   * meanwhile). A failed commit is retried until it succeeds or the subscription closes; a
   * revoked partition's position is dropped (its new owner may deliver those records again).
   */
  #scheduleCommit(delayMs: number): void {
    if (this.#commitTimer !== undefined || this.#closing) return;
    this.#commitTimer = setTimeout(() => {
      this.#commitTimer = undefined;
      this.#committer.flush().catch(() => this.#scheduleCommit(COMMIT_RETRY_MS));
    }, delayMs);
  }

  /** Load the attempt numbers a previous owner committed as metadata (before fetching). */
  #seed(watermarks: readonly PartitionWatermark[]): void {
    const consumer = this.#consumer;
    if (consumer === undefined) return;
    const byTopic = new Map<string, number[]>();
    for (const w of watermarks) byTopic.set(w.topic, [...(byTopic.get(w.topic) ?? []), w.partition]);
    const loading = consumer
      .fetchCommitted([...byTopic].map(([topic, partitions]) => ({ topic, partitions })))
      .then((committed) => {
        for (const c of committed) this.#watermarks.get(partitionKey(c.topic, c.partition))?.seed(c.metadata);
      })
      .catch(noop);
    for (const w of watermarks) this.#ready.set(partitionKey(w.topic, w.partition), loading);
  }

  async #onBatch(batch: ReceivedBatch): Promise<void> {
    const key = partitionKey(batch.topic, batch.partition);
    const watermark = this.#watermarks.get(key);
    if (watermark === undefined || this.#closing) return;
    await this.#ready.get(key);
    if (!(await this.#commitStartBound(batch, watermark))) return;
    for (const record of batch.records) {
      if (this.#closing || watermark.revoked || !batch.isRunning()) return;
      const offset = BigInt(record.offset);
      if (watermark.seen(offset)) continue;
      const headerAttempt = readAttempt(record.headers);
      const item: CustodyItem = {
        record,
        offset,
        watermark,
        headerAttempt,
        firstAttempt: watermark.seededNextAttempt(offset, headerAttempt),
      };
      const dueAt = readDueAt(record.headers);
      if (dueAt > 0 && dueAt > Date.now()) {
        watermark.track(offset);
        this.#scheduler.hold(key, item, dueAt);
        continue;
      }
      // Only wait (one promise per record otherwise) while every handler slot is taken.
      if (this.#dispatcher.freeSlots === 0) {
        await this.#waitForCapacity(batch);
        if (this.#closing || watermark.revoked) return;
      }
      watermark.track(offset);
      this.#dispatch(item);
    }
  }

  /**
   * With `trackAttempts`, commit a start bound covering the batch's records that are due now
   * before any of them starts (one commit per batch instead of one per record). Records held for
   * a later due time are left out (they commit their start when they run), so a crash or close
   * does not count them as started. False when the subscription closed
   * or lost the partition meanwhile.
   */
  async #commitStartBound(batch: ReceivedBatch, watermark: PartitionWatermark): Promise<boolean> {
    const first = batch.records[0];
    const last = lastDue(batch.records, Date.now());
    if (!this.#deps.trackAttempts || first === undefined || last === undefined) return true;
    if (watermark.planStarts(first.offset, last.offset)) await this.#committer.flush().catch(noop);
    return !this.#closing && !watermark.revoked;
  }

  /** Block intake while the dispatcher is full, heartbeating (a rebalance rejects: re-join). */
  async #waitForCapacity(batch: ReceivedBatch): Promise<void> {
    while (!this.#closing && this.#dispatcher.freeSlots === 0) {
      let timer: NodeJS.Timeout | undefined;
      const tick = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, this.#deps.tuning.heartbeatIntervalMs);
      });
      await Promise.race([this.#dispatcher.waitForCapacity(), tick]);
      clearTimeout(timer);
      await batch.heartbeat();
    }
  }

  #dispatch(item: CustodyItem): void {
    if (this.#closing || item.watermark.revoked) return;
    this.#dispatcher.push(item, this.#deps.spec.ordered ? orderingKey(item.record) : undefined);
  }

  /**
   * Deliver until settled (core's `retryInPlace`): ordered retries and failed settlements re-run
   * here. A delivery the router left unsettled, or one interrupted by a close, stays in custody
   * uncommitted: the partition's next owner delivers it again.
   */
  async #run(item: CustodyItem): Promise<void> {
    await retryInPlace(item, item.firstAttempt, this.#steps);
  }

  /**
   * Note that `attempt` of the record starts, so a crash mid-handler is counted. A first
   * attempt inside the committed start bound needs no commit (the next batched commit carries
   * the exact attempt); a re-run, or a start the bound does not cover, commits first (best
   * effort). False when the subscription closed or lost the partition meanwhile: not started.
   */
  #recordStart(item: CustodyItem, attempt: number): boolean | Promise<boolean> {
    if (this.#closing || item.watermark.revoked) return false;
    if (this.#deps.trackAttempts) {
      const { watermark, offset } = item;
      watermark.noteStarted(offset, attempt);
      if (attempt > item.headerAttempt || !watermark.startCommitted(offset)) {
        return this.#committer.flush().then(
          () => this.#stillOwned(item),
          () => this.#stillOwned(item),
        );
      }
    }
    return true;
  }

  #stillOwned(item: CustodyItem): boolean {
    return !this.#closing && !item.watermark.revoked;
  }

  async #deliverOnce(item: CustodyItem, attempt: number): Promise<SettleOnceDelivery<CustodyItem>> {
    const { record } = item;
    const envelope = envelopeFromWire({
      headers: record.headers,
      payload: record.value,
      // Only a foreign record without a CloudEvents id uses its coordinates as id: not built otherwise.
      fallbackId:
        record.headers[WireHeaders.id] === undefined
          ? `${record.topic}/${String(record.partition)}/${record.offset}`
          : '',
      fallbackTime: record.timestamp,
    });
    const delivery = new SettleOnceDelivery(this.#settler, item, envelope, attempt);
    this.#inFlight.add(delivery);
    try {
      await this.#deps.onDelivery(delivery);
    } catch (error) {
      this.#deps.onError(error);
    } finally {
      this.#inFlight.delete(delivery);
    }
    return delivery;
  }

  /** Wait `ms`; resolves false when the subscription closes first. */
  async #sleep(ms: number): Promise<boolean> {
    if (this.#closing) return false;
    return (await this.#delays.sleep(ms)) && !this.#closing;
  }

  #setPaused(keys: readonly string[], paused: boolean): void {
    const consumer = this.#consumer;
    if (consumer === undefined || keys.length === 0) return;
    const byTopic = new Map<string, number[]>();
    for (const key of keys) {
      const split = key.lastIndexOf(':');
      const topic = key.slice(0, split);
      byTopic.set(topic, [...(byTopic.get(topic) ?? []), Number(key.slice(split + 1))]);
    }
    const list = [...byTopic].map(([topic, partitions]) => ({ topic, partitions }));
    if (paused) consumer.pause(list);
    else if (!this.#closing) consumer.resume(list);
  }

  /** Replace a consumer the client gave up on, with back-off, until it joins or we close. */
  async #restart(): Promise<void> {
    if (this.#restarting) return;
    this.#restarting = true;
    let delay = RESTART_MIN_MS;
    try {
      while (!this.#closing) {
        if (!(await this.#sleep(delay))) return;
        await this.#consumer?.stop().catch(noop);
        if (this.#closing) return;
        const consumer = this.#newConsumer();
        this.#consumer = consumer;
        try {
          await consumer.start((batch) => this.#onBatch(batch), this.#listeners());
          return;
        } catch (error) {
          this.#deps.onHealth(false, error instanceof Error ? error : new Error(String(error)));
          delay = Math.min(delay * 2, RESTART_MAX_MS);
        }
      }
    } finally {
      this.#restarting = false;
    }
  }
}

/** The last record of a batch that is due at `now` (delay and retry topics are roughly due-ordered). */
function lastDue(records: readonly ReceivedRecord[], now: number): ReceivedRecord | undefined {
  for (let i = records.length - 1; i >= 0; i -= 1) {
    const record = records[i] as ReceivedRecord;
    if (readDueAt(record.headers) <= now) return record;
  }
  return undefined;
}

function rerunUnlessOk(ok: boolean): number | undefined {
  return ok ? undefined : RELEASE_DELAY_MS;
}

function partitionKey(topic: string, partition: number): string {
  return `${topic}:${String(partition)}`;
}

/** The per-key ordering key: the record key, else the carried partition key. */
function orderingKey(record: ReceivedRecord): string | undefined {
  return record.key ?? record.headers[WireHeaders.partitionKey];
}

async function withTimeout(work: Promise<void>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, ms);
  });
  try {
    await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
