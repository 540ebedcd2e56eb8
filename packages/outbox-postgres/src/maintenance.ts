import { outboxTables, type OutboxTables, type OutboxTablesOptions } from './schema/outbox-tables.js';
import type { SqlPool } from './sql-client.js';
import { mapStoreError } from './store-errors.js';

/** Options of {@link cleanup}. */
export interface CleanupOptions extends OutboxTablesOptions {
  /** Delete dispatched outbox rows older than this (ms since dispatch). Omit to keep them. */
  readonly outboxRetentionMs?: number;
  /**
   * Delete inbox rows older than this (ms since handled). Must exceed the longest time a
   * message can still be redelivered (retry policy, broker retention), or a late redelivery
   * runs its effects again. Omit to keep them.
   */
  readonly inboxRetentionMs?: number;
  /**
   * Delete broker-migration claims (`PostgresMigrationClaims`) older than this (ms since
   * claimed). Must exceed the longest lag between a message's two copies (including the time
   * a copy can wait on a broker while consumers are down), or the late copy is handled again.
   * Omit to keep them.
   */
  readonly migrationClaimsRetentionMs?: number;
  /** Rows deleted per statement (default 5000), to keep locks and WAL bursts small. */
  readonly chunkSize?: number;
}

/** Rows removed by {@link cleanup}. */
export interface CleanupResult {
  readonly outbox: number;
  readonly inbox: number;
  readonly migrationClaims: number;
}

/**
 * Retention: delete dispatched outbox rows and old inbox rows in chunks. Pending outbox rows
 * and dead-lettered rows are never touched. Safe to run concurrently with relays and from
 * several processes.
 */
export async function cleanup(pool: SqlPool, options: CleanupOptions): Promise<CleanupResult> {
  const tables = outboxTables(options);
  const chunk = options.chunkSize ?? 5000;
  try {
    const outbox =
      options.outboxRetentionMs === undefined
        ? 0
        : await deleteInChunks(pool, outboxSql(tables), options.outboxRetentionMs, chunk);
    const inbox =
      options.inboxRetentionMs === undefined
        ? 0
        : await deleteInChunks(pool, inboxSql(tables), options.inboxRetentionMs, chunk);
    const migrationClaims =
      options.migrationClaimsRetentionMs === undefined
        ? 0
        : await deleteInChunks(pool, claimsSql(tables), options.migrationClaimsRetentionMs, chunk);
    return { outbox, inbox, migrationClaims };
  } catch (error) {
    throw mapStoreError(error, tables, 'outbox cleanup');
  }
}

const outboxSql = (t: OutboxTables): string =>
  `DELETE FROM ${t.outbox} WHERE seq IN (
     SELECT seq FROM ${t.outbox}
      WHERE dispatched_at < clock_timestamp() - $1 * interval '1 millisecond'
      LIMIT $2 FOR UPDATE SKIP LOCKED)`;

const inboxSql = (t: OutboxTables): string =>
  `DELETE FROM ${t.inbox} WHERE (group_name, message_id) IN (
     SELECT group_name, message_id FROM ${t.inbox}
      WHERE handled_at < clock_timestamp() - $1 * interval '1 millisecond'
      LIMIT $2 FOR UPDATE SKIP LOCKED)`;

const claimsSql = (t: OutboxTables): string =>
  `DELETE FROM ${t.migrationClaims} WHERE (group_name, message_id) IN (
     SELECT group_name, message_id FROM ${t.migrationClaims}
      WHERE claimed_at < clock_timestamp() - $1 * interval '1 millisecond'
      LIMIT $2 FOR UPDATE SKIP LOCKED)`;

async function deleteInChunks(
  pool: SqlPool,
  sql: string,
  retentionMs: number,
  chunk: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const { rowCount } = await pool.query(sql, [retentionMs, chunk]);
    total += rowCount ?? 0;
    if ((rowCount ?? 0) < chunk) return total;
  }
}

/** Pending (undispatched) outbox rows and the age of the oldest, in ms. */
export interface OutboxLag {
  readonly pending: number;
  readonly oldestAgeMs: number;
}

/** Measure the relay's backlog: one aggregate over the pending-rows index. */
export async function measureLag(pool: SqlPool, tables: OutboxTables): Promise<OutboxLag> {
  try {
    const { rows } = await pool.query<{ pending: number; oldest_age_ms: number }>(
      `SELECT count(*)::int AS pending,
              coalesce(extract(epoch FROM clock_timestamp() - min(created_at)) * 1000, 0)::float8 AS oldest_age_ms
         FROM ${tables.outbox} WHERE dispatched_at IS NULL`,
    );
    return { pending: rows[0]?.pending ?? 0, oldestAgeMs: rows[0]?.oldest_age_ms ?? 0 };
  } catch (error) {
    throw mapStoreError(error, tables, 'measuring outbox lag');
  }
}
