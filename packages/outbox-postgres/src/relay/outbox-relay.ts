import pg from 'pg';
import {
  CodecRegistry,
  ErrorCodes,
  JsonCodec,
  noopLogger,
  OmnibusError,
  type Codec,
  type EventBus,
  type EventDefinition,
  type Logger,
  type Transport,
} from '@omnibus/core';
import { cleanup, measureLag, type OutboxLag } from '../maintenance.js';
import { outboxTables, type OutboxTables, type OutboxTablesOptions } from '../schema/outbox-tables.js';
import { checkout, type CheckedOut, type SqlPool } from '../sql-client.js';
import { isConnectionError, mapStoreError } from '../store-errors.js';
import { backoffDelay, DestinationBackoff, Wakeable } from './backoff.js';
import { dispatchBatch, type BatchResult } from './dispatch-batch.js';
import { NotificationListener } from './notification-listener.js';
import type { RowChecks } from './outbox-row.js';
import type { OutboxRelayEventName, OutboxRelayEvents, OutboxRelayListener } from './relay-events.js';

/** Options of {@link OutboxRelay}. */
export interface OutboxRelayOptions extends OutboxTablesOptions {
  /** A started bus whose transport receives the messages (or give `transport`). */
  readonly bus?: EventBus;
  /** A connected transport (instead of `bus`). The relay does not close it. */
  readonly transport?: Transport;
  /** PostgreSQL connection string (the relay then owns its pool), or give `pool`. */
  readonly connectionString?: string;
  /** A `pg` Pool (not closed by the relay). Its `options` are reused for the LISTEN connection. */
  readonly pool?: SqlPool & { readonly options?: pg.ClientConfig };
  /** Rows per batch (one transaction). Default 100. */
  readonly batchSize?: number;
  /** Batches run at once, each in its own transaction and connection. Default 1. */
  readonly concurrency?: number;
  /** Poll interval when idle; LISTEN/NOTIFY wakes the relay sooner. Default 1000 ms. */
  readonly pollIntervalMs?: number;
  /** LISTEN for insert notifications. Default true. */
  readonly listen?: boolean;
  /** Keep dispatched rows this long (ms). Default 24 h. */
  readonly retentionMs?: number;
  /** Also expire inbox rows older than this (ms). Default: not cleaned by the relay. */
  readonly inboxRetentionMs?: number;
  /** How often retention cleanup runs. Default 60 s; 0 disables it. */
  readonly cleanupIntervalMs?: number;
  /** How often the `lag` event is measured. Default 5 s; 0 disables it. */
  readonly lagIntervalMs?: number;
  /** Backoff after a failed batch: first delay and cap. Default 100 ms … 30 s. */
  readonly backoff?: { readonly baseMs?: number; readonly maxMs?: number };
  /** Codecs for the rows' content types (JSON is always there). */
  readonly codecs?: readonly Codec[];
  /** Events whose schema rows are checked against before publishing (others: decode only). */
  readonly events?: readonly EventDefinition<unknown>[];
  readonly logger?: Logger;
}

/**
 * Publishes committed outbox rows to the bus's transport and marks them dispatched.
 *
 * - Order: per partition key, rows are published in `seq` (write) order, one relay at a time
 *   (advisory lock per key); see docs/guides/outbox.md for how that relates to commit order.
 * - Several relays (processes, or `concurrency` > 1) share the work safely: `FOR UPDATE SKIP
 *   LOCKED` plus per-key advisory locks.
 * - At-least-once: a crash between publish and commit republishes the batch (duplicates, never
 *   loss). Dedupe on the consumer side with {@link PostgresInbox}.
 * - Failures: database or broker errors end the batch, are reported as `error` events and are
 *   retried with capped exponential backoff, forever; a row whose payload no longer decodes is
 *   moved to the dead-letter table with its reason and never retried. A destination that refuses
 *   its rows (`NO_SUBSCRIBERS`, or another non-retriable error of that destination) does not
 *   stop the others: its rows stay pending with `last_error` set, a `refused` event is reported,
 *   and the destination is left out of batches for its own growing backoff (same `backoff` options).
 * - Wakes on LISTEN/NOTIFY, polls every `pollIntervalMs` as a fallback.
 *
 * `start` and `stop` are idempotent.
 */
export class OutboxRelay {
  readonly #tables: OutboxTables;
  readonly #options: OutboxRelayOptions;
  readonly #pool: SqlPool & { readonly options?: pg.ClientConfig; end?: () => Promise<void> };
  readonly #ownsPool: boolean;
  readonly #logger: Logger;
  readonly #checks: Omit<RowChecks, 'maxPayloadBytes' | 'maxDelayMs'>;
  readonly #listeners = new Map<OutboxRelayEventName, Set<(event: never) => void>>();
  readonly #provisioned = new Map<string, Promise<void>>();
  readonly #sleepers: Wakeable[] = [];
  readonly #refusals: DestinationBackoff;
  #workers: Promise<void>[] = [];
  #timers: NodeJS.Timeout[] = [];
  #listener: NotificationListener | undefined;
  #running = false;
  #stopping: Promise<void> | undefined;

  constructor(options: OutboxRelayOptions) {
    if ((options.bus === undefined) === (options.transport === undefined))
      throw new OmnibusError(
        ErrorCodes.CONFIGURATION_INVALID,
        'OutboxRelay needs exactly one of `bus` or `transport`',
      );
    if ((options.pool === undefined) === (options.connectionString === undefined))
      throw new OmnibusError(
        ErrorCodes.CONFIGURATION_INVALID,
        'OutboxRelay needs exactly one of `pool` or `connectionString`',
      );
    this.#tables = outboxTables(options);
    this.#options = options;
    this.#logger = options.logger ?? noopLogger;
    this.#ownsPool = options.pool === undefined;
    if (options.pool !== undefined) this.#pool = options.pool;
    else {
      const pool = new pg.Pool({
        connectionString: options.connectionString,
        max: (options.concurrency ?? 1) + 2,
      });
      pool.on('error', (error) => this.#logger.warn('outbox relay: idle connection failed', { error }));
      this.#pool = pool;
    }
    const codecs = new CodecRegistry([new JsonCodec(), ...(options.codecs ?? [])]);
    this.#checks = { codecs, events: new Map((options.events ?? []).map((e) => [e.name, e])) };
    this.#refusals = new DestinationBackoff(options.backoff?.baseMs ?? 100, options.backoff?.maxMs ?? 30_000);
  }

  /** The resolved table names. */
  get tables(): OutboxTables {
    return this.#tables;
  }

  /**
   * Start the workers, the LISTEN connection and the cleanup and lag timers. Returns at once
   * (the relay then runs in the background until {@link stop}).
   * @throws OmnibusError `BUS_NOT_STARTED` when given a bus that is not started.
   */
  start(): void {
    if (this.#running || this.#stopping !== undefined) return;
    this.#transport();
    this.#running = true;
    const concurrency = Math.max(1, this.#options.concurrency ?? 1);
    for (let i = 0; i < concurrency; i++) {
      const sleeper = new Wakeable();
      this.#sleepers.push(sleeper);
      this.#workers.push(this.#work(sleeper));
    }
    if (this.#options.listen !== false) {
      this.#listener = new NotificationListener({
        connection:
          this.#options.connectionString !== undefined
            ? { connectionString: this.#options.connectionString }
            : (this.#pool.options ?? {}),
        channel: this.#tables.channel,
        payload: this.#tables.schema,
        onNotify: () => this.wake(),
        logger: this.#logger,
        maxBackoffMs: this.#options.backoff?.maxMs ?? 30_000,
      });
      this.#listener.start();
    }
    this.#every(this.#options.cleanupIntervalMs ?? 60_000, () => this.#cleanup());
    this.#every(this.#options.lagIntervalMs ?? 5000, async () => this.#emit('lag', await this.lag()));
  }

  /** Wake idle workers now (e.g. right after your own commit, in-process). */
  wake(): void {
    for (const sleeper of this.#sleepers) sleeper.wake();
  }

  /** Current backlog: pending rows and the age of the oldest. */
  lag(): Promise<OutboxLag> {
    return measureLag(this.#pool, this.#tables);
  }

  /**
   * Stop taking batches, let running batches finish (their transport publish and commit), then
   * close the LISTEN connection (and the pool when the relay created it). Never rejects.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.#stop();
    return this.#stopping;
  }

  async #stop(): Promise<void> {
    this.#running = false;
    for (const timer of this.#timers) clearInterval(timer);
    this.wake();
    await Promise.allSettled(this.#workers);
    await this.#listener?.close();
    if (this.#ownsPool) await this.#pool.end?.().catch(() => undefined);
  }

  /**
   * Listen to a relay event (`dispatched`, `dead-lettered`, `refused`, `error`, `lag`, `cleaned`).
   * Returns a disposer.
   */
  on<K extends OutboxRelayEventName>(name: K, listener: OutboxRelayListener<K>): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) this.#listeners.set(name, (set = new Set()));
    set.add(listener);
    return () => set.delete(listener);
  }

  /**
   * Run one batch now (tests and tools; the workers do this in a loop). Destinations in their
   * refusal backoff are left out; refusals and successes update that backoff.
   */
  async runOnce(): Promise<BatchResult> {
    const transport = this.#transport();
    let connection: CheckedOut;
    try {
      connection = await checkout(this.#pool);
    } catch (error) {
      throw mapStoreError(error, this.#tables, 'outbox relay');
    }
    const client = connection.client;
    let broken = false;
    try {
      await client.query('BEGIN');
      const result = await dispatchBatch(
        client,
        this.#tables,
        transport,
        {
          ...this.#checks,
          maxPayloadBytes: transport.capabilities.maxPayloadBytes,
          maxDelayMs:
            transport.capabilities.delayedDelivery === false
              ? false
              : transport.capabilities.delayedDelivery.maxDelayMs,
        },
        this.#options.batchSize ?? 100,
        (destination) => this.#ensureDestination(transport, destination),
        this.#refusals.blocked(Date.now()),
      );
      await client.query('COMMIT');
      this.#afterBatch(result);
      return result;
    } catch (error) {
      broken = isConnectionError(error);
      await client.query('ROLLBACK').catch(() => undefined);
      throw mapStoreError(error, this.#tables, 'outbox relay');
    } finally {
      connection.release(broken);
    }
  }

  /** Per-destination backoff: refused destinations wait, published ones start over. */
  #afterBatch(result: BatchResult): void {
    for (const destination of result.publishedTo) this.#refusals.succeeded(destination);
    for (const { destination, rows, error } of result.refused) {
      const backoff = this.#refusals.refused(destination, Date.now());
      this.#logger.warn('outbox relay: a destination refused its rows; they stay pending', {
        destination,
        rows,
        error,
        ...backoff,
      });
      this.#emit('refused', { destination, rows, error, ...backoff });
    }
  }

  async #work(sleeper: Wakeable): Promise<void> {
    const batchSize = this.#options.batchSize ?? 100;
    const pollMs = this.#options.pollIntervalMs ?? 1000;
    let failures = 0;
    while (this.#running) {
      const t0 = Date.now();
      let result: BatchResult | undefined;
      let error: unknown;
      try {
        result = await this.runOnce();
        error = result.publishError;
      } catch (caught) {
        error = caught;
      }
      if (result !== undefined) {
        for (const dead of result.deadLettered) {
          this.#logger.error('outbox relay: dead-lettered a row that does not decode', { ...dead });
          this.#emit('dead-lettered', dead);
        }
        if (result.published + result.deadLettered.length > 0)
          this.#emit('dispatched', {
            published: result.published,
            deadLettered: result.deadLettered.length,
            maxAgeMs: result.maxAgeMs,
            durationMs: Date.now() - t0,
          });
      }
      if (error !== undefined) {
        failures += 1;
        const retryInMs = backoffDelay(
          failures,
          this.#options.backoff?.baseMs ?? 100,
          this.#options.backoff?.maxMs ?? 30_000,
        );
        this.#logger.warn('outbox relay: batch failed; retrying', {
          error,
          retryInMs,
          consecutiveFailures: failures,
        });
        this.#emit('error', { error, consecutiveFailures: failures, retryInMs });
        if (this.#running) await sleeper.sleep(retryInMs);
        continue;
      }
      failures = 0;
      if (result !== undefined && result.claimed < batchSize && this.#running) await sleeper.sleep(pollMs);
    }
  }

  #transport(): Transport {
    if (this.#options.transport !== undefined) return this.#options.transport;
    const transport = this.#options.bus?.transport;
    if (transport === undefined || this.#options.bus?.status !== 'started')
      throw new OmnibusError(
        ErrorCodes.BUS_NOT_STARTED,
        'the outbox relay needs a started bus: await bus.start() first',
      );
    return transport;
  }

  #ensureDestination(transport: Transport, destination: string): Promise<void> {
    let provisioning = this.#provisioned.get(destination);
    if (provisioning === undefined) {
      provisioning = transport.provision({ destinations: [{ name: destination, groups: [] }] });
      this.#provisioned.set(destination, provisioning);
      provisioning.catch(() => this.#provisioned.delete(destination));
    }
    return provisioning;
  }

  async #cleanup(): Promise<void> {
    const result = await cleanup(this.#pool, {
      schema: this.#tables.schema,
      prefix: this.#tables.prefix,
      outboxRetentionMs: this.#options.retentionMs ?? 24 * 3_600_000,
      ...(this.#options.inboxRetentionMs === undefined
        ? {}
        : { inboxRetentionMs: this.#options.inboxRetentionMs }),
    });
    if (result.outbox + result.inbox > 0) this.#emit('cleaned', result);
  }

  #every(ms: number, task: () => Promise<void>): void {
    if (ms <= 0) return;
    let busy = false;
    const timer = setInterval(() => {
      if (busy) return;
      busy = true;
      task()
        .catch((error: unknown) => this.#logger.warn('outbox relay: background task failed', { error }))
        .finally(() => {
          busy = false;
        });
    }, ms);
    timer.unref();
    this.#timers.push(timer);
  }

  #emit<K extends OutboxRelayEventName>(name: K, event: OutboxRelayEvents[K]): void {
    for (const listener of this.#listeners.get(name) ?? []) {
      try {
        (listener as OutboxRelayListener<K>)(event);
      } catch (error) {
        this.#logger.warn('outbox relay: listener failed', { event: name, error });
      }
    }
  }
}
