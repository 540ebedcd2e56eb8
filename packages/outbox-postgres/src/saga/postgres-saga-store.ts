import type { SagaChange, SagaQuery, SagaRecord, SagaStore } from '@omnibus/saga';
import type { PostgresOutbox } from '../outbox/postgres-outbox.js';
import { outboxTables, type OutboxTables, type OutboxTablesOptions } from '../schema/outbox-tables.js';
import type { SqlPool } from '../sql-client.js';
import { mapStoreError } from '../store-errors.js';
import { withTransaction } from '../transaction.js';

/** Options of {@link PostgresSagaStore}. */
export interface PostgresSagaStoreOptions extends OutboxTablesOptions {
  /** The pool the instances (and, with `outbox`, the step's messages) are written through. */
  readonly pool: SqlPool;
  /**
   * Write each step's messages to this outbox in the step's transaction: the state change and
   * the messages commit together, and an `OutboxRelay` publishes them. Its tables (schema,
   * prefix) are used for the saga table too. Without it, the saga publishes after the commit.
   */
  readonly outbox?: PostgresOutbox;
}

const DEFAULT_LIMIT = 100;

/**
 * `SagaStore` on PostgreSQL (table `<prefix>saga`, created by `migrate`). `save` is one
 * transaction: a conditional `UPDATE … WHERE version = expected` (or an `INSERT … ON CONFLICT DO
 * NOTHING` for a new instance) that appends the step's pending entry to the stored ones in SQL
 * (so a concurrent `markDispatched` is never undone), plus, with an outbox, the step's messages; zero rows updated is a
 * `conflict` and writes nothing. A competing transaction on the same instance waits for the first
 * to commit, then sees the new version and conflicts. Connection failures reject with the
 * retriable `STORE_UNAVAILABLE`, a missing table with `STORE_NOT_MIGRATED`. Safe to share.
 */
export class PostgresSagaStore implements SagaStore {
  readonly writesMessages: boolean;
  readonly #pool: SqlPool;
  readonly #outbox: PostgresOutbox | undefined;
  readonly #tables: OutboxTables;

  constructor(options: PostgresSagaStoreOptions) {
    this.#pool = options.pool;
    this.#outbox = options.outbox;
    this.writesMessages = options.outbox !== undefined;
    this.#tables = options.outbox?.tables ?? outboxTables(options);
  }

  /** {@inheritDoc @omnibus/saga!SagaStore.load} */
  async load(saga: string, id: string): Promise<SagaRecord | undefined> {
    try {
      const result = await this.#pool.query<{ record: SagaRecord }>(
        `SELECT record FROM ${this.#tables.saga} WHERE saga = $1 AND id = $2`,
        [saga, id],
      );
      return result.rows[0]?.record;
    } catch (error) {
      throw mapStoreError(error, this.#tables, `loading saga ${saga}/${id}`);
    }
  }

  /** {@inheritDoc @omnibus/saga!SagaStore.save} */
  async save(change: SagaChange): Promise<'saved' | 'conflict'> {
    const added =
      change.pending.length > 0 ? [{ version: change.record.version, messages: change.pending }] : [];
    const r = change.record;
    const columns = [
      r.saga,
      r.id,
      r.version,
      r.status,
      r.timedOut,
      nextDue(r),
      r.updatedAt,
      JSON.stringify({ ...r, pending: added }),
    ];
    try {
      return await withTransaction(this.#pool, async (tx) => {
        const written =
          change.expectedVersion === 0
            ? await tx.query(
                `INSERT INTO ${this.#tables.saga} (saga, id, version, status, timed_out, next_due_at, updated_at, record)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (saga, id) DO NOTHING`,
                columns,
              )
            : await tx.query(
                `UPDATE ${this.#tables.saga}
                    SET version = $3, status = $4, timed_out = $5, next_due_at = $6, updated_at = $7,
                        record = jsonb_set($8::jsonb, '{pending}', COALESCE(record->'pending', '[]'::jsonb) || $10::jsonb)
                  WHERE saga = $1 AND id = $2 AND version = $9`,
                [...columns, change.expectedVersion, JSON.stringify(added)],
              );
        if (written.rowCount !== 1) return 'conflict';
        if (this.#outbox !== undefined)
          for (const m of change.messages) await this.#outbox.publish(tx, m.event, m.payload, m.options);
        return 'saved';
      });
    } catch (error) {
      throw mapStoreError(error, this.#tables, `saving saga ${r.saga}/${r.id}`);
    }
  }

  /** {@inheritDoc @omnibus/saga!SagaStore.markDispatched} */
  async markDispatched(saga: string, id: string, version: number): Promise<void> {
    try {
      await this.#pool.query(
        `UPDATE ${this.#tables.saga}
            SET record = jsonb_set(record, '{pending}', COALESCE(
              (SELECT jsonb_agg(p) FROM jsonb_array_elements(record->'pending') p WHERE (p->>'version')::int <> $3),
              '[]'::jsonb))
          WHERE saga = $1 AND id = $2
            AND EXISTS (SELECT 1 FROM jsonb_array_elements(record->'pending') p WHERE (p->>'version')::int = $3)`,
        [saga, id, version],
      );
    } catch (error) {
      throw mapStoreError(error, this.#tables, `marking saga ${saga}/${id} dispatched`);
    }
  }

  /** {@inheritDoc @omnibus/saga!SagaStore.find} */
  async find(query: SagaQuery): Promise<SagaRecord[]> {
    const where: string[] = [];
    const values: unknown[] = [];
    const add = (sql: string, value: unknown): void => {
      values.push(value);
      where.push(sql.replace('?', `$${String(values.length)}`));
    };
    if (query.saga !== undefined) add('saga = ?', query.saga);
    if (query.id !== undefined) add('id = ?', query.id);
    if (query.status !== undefined)
      add('status = ANY(?)', typeof query.status === 'string' ? [query.status] : [...query.status]);
    if (query.updatedBefore !== undefined) add('updated_at < ?', query.updatedBefore.toISOString());
    if (query.timeoutDueBefore !== undefined) add('next_due_at < ?', query.timeoutDueBefore.toISOString());
    if (query.timedOut !== undefined) add('timed_out = ?', query.timedOut);
    if (query.pending !== undefined)
      add("(jsonb_array_length(COALESCE(record->'pending', '[]'::jsonb)) > 0) = ?", query.pending);
    values.push(Math.min(query.limit ?? DEFAULT_LIMIT, DEFAULT_LIMIT * 100));
    try {
      const result = await this.#pool.query<{ record: SagaRecord }>(
        `SELECT record FROM ${this.#tables.saga} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
          ORDER BY updated_at LIMIT $${String(values.length)}`,
        values,
      );
      return result.rows.map((row) => row.record);
    } catch (error) {
      throw mapStoreError(error, this.#tables, 'querying saga instances');
    }
  }
}

/** Earliest armed timeout (for the overdue query), or null. */
function nextDue(record: SagaRecord): string | null {
  let earliest: string | null = null;
  for (const t of record.timeouts) if (earliest === null || t.dueAt < earliest) earliest = t.dueAt;
  return earliest;
}
