import { checkout, type SqlPool } from '../sql-client.js';
import { outboxDdl } from './outbox-ddl.js';
import { outboxTables, type OutboxTablesOptions } from './outbox-tables.js';

/**
 * Create (or complete) the outbox, outbox dead-letter and inbox tables, their indexes and the
 * insert trigger that wakes relays. Idempotent and safe to run from several processes at once
 * (serialised by an advisory lock, in one transaction). Needs the right to create tables in the
 * schema. Resolves with the tables' schema.
 */
export async function migrate(pool: SqlPool, options: OutboxTablesOptions = {}): Promise<{ schema: string }> {
  const tables = outboxTables(options);
  const connection = await checkout(pool);
  const client = connection.client;
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1, 0)', [tables.lockSpace]);
    await client.query(outboxDdl(tables));
    await client.query('COMMIT');
    connection.release(false);
    return { schema: tables.schema };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    connection.release(true);
    throw error;
  }
}
