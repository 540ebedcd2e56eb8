import { ErrorCodes, isOmnibusError, OmnibusError } from '@omnibus/core';
import type { OutboxTables } from './schema/outbox-tables.js';

/** The command that creates the tables, named in every "not migrated" error. */
export const MIGRATE_COMMAND = 'npx omnibus-outbox migrate --url <postgres-url>';

const codeOf = (error: unknown): string | undefined =>
  typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'string'
    ? (error as { code: string }).code
    : undefined;

/**
 * True when `error` means the database cannot be used right now: refused or lost connections,
 * a server shutting down or starting, a client-side connection timeout.
 */
export function isConnectionError(error: unknown): boolean {
  const code = codeOf(error);
  if (code !== undefined) {
    if (/^(08|57P0[1-3]|53300)/.test(code)) return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(code))
      return true;
  }
  const message = error instanceof Error ? error.message : '';
  return /Connection terminated|connection timeout|Client has encountered a connection error|not queryable|Client was closed/i.test(
    message,
  );
}

/**
 * Map a `pg` error onto the package's typed errors: a missing table or schema becomes
 * `STORE_NOT_MIGRATED` (naming {@link MIGRATE_COMMAND}), an aborted transaction
 * `TRANSACTION_REQUIRED`, a connection problem becomes a
 * retriable `STORE_UNAVAILABLE`; anything else is returned unchanged.
 */
export function mapStoreError(error: unknown, tables: OutboxTables, doing: string): unknown {
  if (isOmnibusError(error)) return error;
  const code = codeOf(error);
  if (code === '42P01' || code === '3F000') {
    return new OmnibusError(
      ErrorCodes.STORE_NOT_MIGRATED,
      `${doing}: the outbox tables do not exist in schema "${tables.schema}" (${error instanceof Error ? error.message : String(error)}); create them with \`${MIGRATE_COMMAND}\` (add --schema ${tables.schema} for a non-default schema) or call migrate(pool)`,
      { cause: error },
    );
  }
  if (code === '25P02') {
    return new OmnibusError(
      ErrorCodes.TRANSACTION_REQUIRED,
      `${doing}: the transaction has failed (an earlier statement errored); roll it back and retry the whole transaction`,
      { cause: error },
    );
  }
  if (isConnectionError(error)) {
    return new OmnibusError(
      ErrorCodes.STORE_UNAVAILABLE,
      `${doing}: PostgreSQL is unavailable: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, retriable: true },
    );
  }
  return error;
}
