import {
  buildOutgoingMessage,
  currentHandlerContext,
  destinationOf,
  ErrorCodes,
  JsonCodec,
  OmnibusError,
  type BatchPublishOptions,
  type Codec,
  type EventDefinition,
  type MessageEnvelope,
  type OutgoingMessage,
  type PublishOptions,
  type TransportCapabilities,
  WireHeaders,
} from '@omnibus/core';
import { outboxTables, type OutboxTables, type OutboxTablesOptions } from '../schema/outbox-tables.js';
import type { SqlClient } from '../sql-client.js';
import { mapStoreError } from '../store-errors.js';

/** Options of {@link PostgresOutbox}. */
export interface PostgresOutboxOptions extends OutboxTablesOptions {
  /** Codec for payloads (default JSON). The relay must be able to decode its content type. */
  readonly codec?: Codec;
  /**
   * Largest encoded payload accepted, in bytes (default: unlimited here; the relay
   * dead-letters rows larger than the transport accepts). Set it to the transport's limit
   * to fail at publish instead.
   */
  readonly maxPayloadBytes?: number;
}

/** Publishing bound to one open transaction: see {@link PostgresOutbox.bind}. */
export interface TransactionalPublisher {
  /** {@link PostgresOutbox.publish} with the bound transaction. */
  publish<T>(event: EventDefinition<T>, payload: T, options?: PublishOptions): Promise<MessageEnvelope>;
  /** {@link PostgresOutbox.publishBatch} with the bound transaction. */
  publishBatch<T>(
    event: EventDefinition<T>,
    payloads: readonly T[],
    options?: BatchPublishOptions<T>,
  ): Promise<MessageEnvelope[]>;
}

const COLUMNS = 11;

/**
 * The writing side of the transactional outbox: `publish` validates, encodes and stamps a
 * message exactly like `EventBus.publish` (schema, reserved headers, correlation/causation and
 * trace context from the handler context), then inserts it as a row **in the caller's open
 * transaction**. The message exists if and only if that transaction commits; an
 * {@link OutboxRelay} then publishes it to the bus's transport.
 *
 * Concurrency: stateless apart from its options; share one instance. Calls on one connection
 * must not overlap (a `pg` connection runs one statement at a time anyway).
 */
export class PostgresOutbox {
  readonly #tables: OutboxTables;
  readonly #codec: Codec;
  readonly #capabilities: TransportCapabilities;

  constructor(options: PostgresOutboxOptions = {}) {
    this.#tables = outboxTables(options);
    this.#codec = options.codec ?? new JsonCodec();
    this.#capabilities = {
      ordering: 'per-key',
      delayedDelivery: { maxDelayMs: 2_147_483_647, emulated: false },
      maxRetryDelayMs: Number.MAX_SAFE_INTEGER,
      maxPayloadBytes: options.maxPayloadBytes ?? Number.MAX_SAFE_INTEGER,
      competingConsumers: true,
      fanOut: true,
      survivesBrokerRestart: true,
      noDuplicatesWithoutFaults: false,
      publishDeduplication: false,
      atomicBatchPublish: true,
    };
  }

  /** The resolved table names. */
  get tables(): OutboxTables {
    return this.#tables;
  }

  /**
   * Write one message into the outbox inside `tx`'s open transaction. Resolves with the
   * envelope once the row is inserted (not yet published: that happens after commit).
   * @throws OmnibusError `TRANSACTION_REQUIRED` when `tx` has no open transaction (or it is
   * aborted); `VALIDATION_FAILED`, `ENCODE_FAILED`, `PAYLOAD_TOO_LARGE`, `DELAY_OUT_OF_RANGE`
   * as `EventBus.publish`; `STORE_NOT_MIGRATED` when the table is missing; `STORE_UNAVAILABLE`
   * when the connection is lost (the transaction is then lost too).
   */
  async publish<T>(
    tx: SqlClient,
    event: EventDefinition<T>,
    payload: T,
    options: PublishOptions = {},
  ): Promise<MessageEnvelope> {
    const [envelope] = await this.#write(tx, event, [{ payload, options }]);
    return envelope as MessageEnvelope;
  }

  /** Write several messages of one event in `tx` (one statement). Same errors as {@link publish}. */
  async publishBatch<T>(
    tx: SqlClient,
    event: EventDefinition<T>,
    payloads: readonly T[],
    options?: BatchPublishOptions<T>,
  ): Promise<MessageEnvelope[]> {
    const items = payloads.map((payload, index) => ({
      payload,
      options: typeof options === 'function' ? options(payload, index) : (options ?? {}),
    }));
    return this.#write(tx, event, items);
  }

  /** A publisher bound to `tx` (e.g. to hand to code that should not see the connection). */
  bind(tx: SqlClient): TransactionalPublisher {
    return {
      publish: (event, payload, options) => this.publish(tx, event, payload, options),
      publishBatch: (event, payloads, options) => this.publishBatch(tx, event, payloads, options),
    };
  }

  async #write(
    tx: SqlClient,
    event: EventDefinition<unknown>,
    items: readonly { payload: unknown; options: PublishOptions }[],
  ): Promise<MessageEnvelope[]> {
    await requireTransaction(tx, this.#tables);
    const context = currentHandlerContext();
    const messages: OutgoingMessage[] = [];
    for (const item of items) {
      messages.push(
        await buildOutgoingMessage({
          event,
          payload: item.payload,
          options: item.options,
          context,
          codec: this.#codec,
          transportName: 'outbox-postgres',
          capabilities: this.#capabilities,
        }),
      );
    }
    if (messages.length === 0) return [];
    const destination = destinationOf(event);
    const values: unknown[] = [];
    const tuples = messages.map(({ envelope: e, delayMs }, i) => {
      values.push(
        e.id,
        destination,
        e.type,
        e.partitionKey ?? null,
        e.contentType,
        Buffer.from(e.payload.buffer, e.payload.byteOffset, e.payload.byteLength),
        JSON.stringify(
          e.version === undefined
            ? e.headers
            : { ...e.headers, [WireHeaders.eventVersion]: String(e.version) },
        ),
        e.correlationId ?? null,
        e.causationId ?? null,
        e.occurredAt,
        delayMs ?? null,
      );
      const base = i * COLUMNS;
      return `(${Array.from({ length: COLUMNS }, (_, c) => `$${String(base + c + 1)}`).join(', ')})`;
    });
    try {
      await tx.query(
        `INSERT INTO ${this.#tables.outbox}
           (id, destination, type, partition_key, content_type, payload, headers, correlation_id, causation_id, occurred_at, delay_ms)
         VALUES ${tuples.join(', ')}`,
        values,
      );
    } catch (error) {
      throw mapStoreError(error, this.#tables, `writing ${event.name} to the outbox`);
    }
    return messages.map((m) => m.envelope);
  }
}

/**
 * Resolve when `tx` has an open, healthy transaction. Uses the driver's transaction status when
 * it exposes one (pg ≥ 8.16), else asks the server: outside a transaction block, the
 * transaction and statement timestamps of a statement are equal.
 */
async function requireTransaction(tx: SqlClient, tables: OutboxTables): Promise<void> {
  const status = typeof tx.getTransactionStatus === 'function' ? tx.getTransactionStatus() : undefined;
  if (status === 'T') return;
  if (status === 'E')
    throw new OmnibusError(
      ErrorCodes.TRANSACTION_REQUIRED,
      'outbox publish: the transaction has failed (an earlier statement errored); roll it back and retry the whole transaction',
    );
  if (status === 'I') throw notInTransaction();
  let inTransaction: boolean;
  try {
    const { rows } = await tx.query<{ in_tx: boolean }>(
      'SELECT transaction_timestamp() <> statement_timestamp() AS in_tx',
    );
    inTransaction = rows[0]?.in_tx === true;
  } catch (error) {
    throw mapStoreError(error, tables, 'outbox publish');
  }
  if (!inTransaction) throw notInTransaction();
}

const notInTransaction = (): OmnibusError =>
  new OmnibusError(
    ErrorCodes.TRANSACTION_REQUIRED,
    'outbox publish needs an open transaction on the connection it is given (BEGIN first, or use withTransaction(pool, tx => ...)); a Pool or an idle connection would publish outside your transaction',
  );
