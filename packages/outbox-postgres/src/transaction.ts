import { checkout, type PooledClient, type SqlPool } from './sql-client.js';
import { isConnectionError } from './store-errors.js';

/**
 * Run `work` in a transaction on a connection from `pool`: BEGIN, `work(tx)`, COMMIT; ROLLBACK
 * when `work` throws (then rethrows). The connection is released (destroyed when it broke).
 * Resolves with `work`'s result once COMMIT succeeded; a failed COMMIT rejects, and then the
 * transaction's outbox rows were not written.
 */
export async function withTransaction<T>(pool: SqlPool, work: (tx: PooledClient) => Promise<T>): Promise<T> {
  const connection = await checkout(pool);
  const tx = connection.client;
  let broken: unknown;
  try {
    await tx.query('BEGIN');
    const result = await work(tx);
    await tx.query('COMMIT');
    return result;
  } catch (error) {
    broken = error;
    await tx.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    connection.release(broken !== undefined && isConnectionError(broken));
  }
}
