import pg from 'pg';
import type { MigrationClaims, MigrationSide } from '@omnibus/core';
import { cleanup } from '../maintenance.js';
import { outboxTables, type OutboxTables, type OutboxTablesOptions } from '../schema/outbox-tables.js';
import type { SqlPool } from '../sql-client.js';
import { mapStoreError } from '../store-errors.js';

/** Options of {@link PostgresMigrationClaims}. */
export interface PostgresMigrationClaimsOptions extends OutboxTablesOptions {
  /** The pool claims are written through (one short statement per delivered copy). */
  readonly pool: SqlPool;
}

/**
 * The broker-migration claim store shared by every consumer process: one row per
 * (group, message id) in `<prefix>migration_claims` (created by {@link migrate} /
 * `omnibus-outbox migrate`). The first copy of a message to insert its row owns it; the insert
 * is `ON CONFLICT DO NOTHING`, so exactly one side wins however many processes race, and a
 * loser reads the winner's side. Give it to `MigrationTransport` (`claims`) or select it from
 * configuration (`claims: 'postgres'`, `claimsUrl`).
 *
 * Expiry: rows are never deleted by the store; call {@link expire} (or `cleanup` with
 * `migrationClaimsRetentionMs`, or `omnibus-outbox cleanup --migration-claims-retention-ms`)
 * with a retention longer than any lag between a message's two copies, including the time a
 * copy waits on a broker while its consumers are down — or drop the table after `cut-over`
 * once the new broker's groups no longer hold copies published during `dual-write`.
 *
 * Database failures reject with `STORE_UNAVAILABLE` (retriable: the copy is retried by its
 * broker, nothing is handled) or `STORE_NOT_MIGRATED`. Concurrency: one instance per process,
 * shared by every subscription.
 */
export class PostgresMigrationClaims implements MigrationClaims {
  readonly #pool: SqlPool;
  readonly #tables: OutboxTables;
  readonly #claimSql: string;
  readonly #ownerSql: string;
  readonly #end: (() => Promise<void>) | undefined;
  #closed: Promise<void> | undefined;

  /**
   * @param options the pool and tables.
   * @param end called once by {@link close} (e.g. ending a pool this store owns); the caller owns `options.pool` otherwise.
   */
  constructor(options: PostgresMigrationClaimsOptions, end?: () => Promise<void>) {
    this.#pool = options.pool;
    this.#tables = outboxTables(options);
    this.#end = end;
    this.#claimSql = `INSERT INTO ${this.#tables.migrationClaims} (group_name, message_id, side)
      VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING side`;
    this.#ownerSql = `SELECT side FROM ${this.#tables.migrationClaims} WHERE group_name = $1 AND message_id = $2`;
  }

  async claim(group: string, id: string, side: MigrationSide): Promise<MigrationSide> {
    try {
      const inserted = await this.#pool.query<{ side: MigrationSide }>(this.#claimSql, [group, id, side]);
      if ((inserted.rowCount ?? 0) > 0) return side;
      // Lost the insert: the conflicting row is committed (ON CONFLICT waited for it), and
      // this new statement's snapshot sees it — unless it expired in between: claim again.
      const owner = await this.#pool.query<{ side: MigrationSide }>(this.#ownerSql, [group, id]);
      return owner.rows[0]?.side ?? (await this.claim(group, id, side));
    } catch (error) {
      throw mapStoreError(error, this.#tables, `migration claim (group "${group}", message ${id})`);
    }
  }

  /** Delete claims made more than `olderThanMs` ago; resolves with how many. */
  async expire(olderThanMs: number): Promise<number> {
    const result = await cleanup(this.#pool, {
      schema: this.#tables.schema,
      prefix: this.#tables.prefix,
      migrationClaimsRetentionMs: olderThanMs,
    });
    return result.migrationClaims;
  }

  /** End the pool when this store created it ({@link createPostgresMigrationClaims}); idempotent. */
  close(): Promise<void> {
    this.#closed ??= this.#end?.() ?? Promise.resolve();
    return this.#closed;
  }
}

/** Options of {@link createPostgresMigrationClaims}. */
export interface PostgresMigrationClaimsConnection extends OutboxTablesOptions {
  /** PostgreSQL connection string. */
  readonly connectionString: string;
  /** Pool size (default 4). */
  readonly max?: number;
}

/**
 * A {@link PostgresMigrationClaims} on its own `pg` pool, ended by `close()`. This is what the
 * migration transport's configuration (`claims: 'postgres'`, `claimsUrl`) builds.
 * @throws OmnibusError `CONFIGURATION_INVALID` for a bad schema or prefix.
 */
export function createPostgresMigrationClaims(
  options: PostgresMigrationClaimsConnection,
): PostgresMigrationClaims {
  outboxTables(options); // validate before opening a pool
  const pool = new pg.Pool({ connectionString: options.connectionString, max: options.max ?? 4 });
  pool.on('error', () => undefined); // idle clients lost in a restart; queries report their own errors
  return new PostgresMigrationClaims(
    {
      pool,
      ...(options.schema === undefined ? {} : { schema: options.schema }),
      ...(options.prefix === undefined ? {} : { prefix: options.prefix }),
    },
    () => pool.end(),
  );
}
