// Test support: the broker manager's PostgreSQL; transports come from ../src/local-transports.ts.
import pg from 'pg';

/** Connection string of the test server (override with OMNIBUS_TEST_POSTGRES_URL). */
export const POSTGRES_URL =
  process.env['OMNIBUS_TEST_POSTGRES_URL'] ?? 'postgres://omnibus:omnibus@127.0.0.1:55432/omnibus';

/** A pool on the test database; errors of idle clients are ignored (tests restart the server). */
export function testPool(max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: POSTGRES_URL, max });
  pool.on('error', () => undefined);
  return pool;
}

/** Drop a test schema and everything in it. */
export async function dropSchema(pool: pg.Pool, schema: string): Promise<void> {
  await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
}

export { transportFor } from '../src/local-transports.js';
