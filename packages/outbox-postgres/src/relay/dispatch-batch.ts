import { ErrorCodes, isOmnibusError, type OutgoingMessage, type Transport } from '@omnibus/core';
import type { OutboxTables } from '../schema/outbox-tables.js';
import type { SqlClient } from '../sql-client.js';
import { decodeRow, type DecodedRow, type OutboxRow, type RowChecks } from './outbox-row.js';

/** What one batch did. */
export interface BatchResult {
  /** Rows claimed (locked) by this batch. */
  readonly claimed: number;
  /** Rows published and marked dispatched. */
  readonly published: number;
  /** Rows moved to the dead-letter table. */
  readonly deadLettered: readonly { readonly id: string; readonly seq: string; readonly reason: string }[];
  /** Age (ms since insert) of the oldest published row, at claim time. */
  readonly maxAgeMs: number;
  /** Destinations whose rows were published (and marked dispatched). */
  readonly publishedTo: readonly string[];
  /**
   * Destinations that refused their rows (see {@link refusesDestination}): those rows stay
   * pending with `attempts`/`last_error` updated, and the batch went on with the other destinations.
   */
  readonly refused: readonly DestinationRefusal[];
  /** The transport error that stopped the batch early (the rest stays pending), if any. */
  readonly publishError?: unknown;
}

/** A destination that refused its rows in one batch. */
export interface DestinationRefusal {
  readonly destination: string;
  /** Rows left pending. */
  readonly rows: number;
  readonly error: unknown;
}

/**
 * True when a publish error concerns its destination only, so the relay goes on with the other
 * destinations: `NO_SUBSCRIBERS` (no consumer group yet, a deployment state) and any other
 * non-retriable Omnibus error (the destination is missing, forbidden, misconfigured). A
 * retriable or unknown error (the broker is unreachable, a timeout) concerns the whole
 * transport and stops the batch. Pure.
 */
export function refusesDestination(error: unknown): boolean {
  return isOmnibusError(error) && (error.code === ErrorCodes.NO_SUBSCRIBERS || !error.retriable);
}

const EMPTY: BatchResult = {
  claimed: 0,
  published: 0,
  deadLettered: [],
  maxAgeMs: 0,
  publishedTo: [],
  refused: [],
};

/**
 * Step 1: lock partition keys. Among the first `$1` pending rows (in `seq` order), take the
 * transaction-scoped advisory lock of each distinct key (the message id for keyless rows) that
 * no other relay holds, leaving out the destinations in `$2` (refused recently, in backoff). Each key is tried exactly once (GROUP BY), so a key is either wholly
 * ours for this transaction or wholly someone else's: no two relays ever publish one key's rows
 * at the same time, and whoever takes a key next sees the previous holder's commit.
 */
const lockKeysSql = (t: OutboxTables): string => `
SELECT k FROM (
  SELECT coalesce(partition_key, id) AS k, min(seq) AS first_seq
    FROM (SELECT partition_key, id, seq FROM ${t.outbox}
           WHERE dispatched_at IS NULL AND destination <> ALL($2::text[])
           ORDER BY seq LIMIT $1) AS window_rows
   GROUP BY 1) AS keys
 WHERE pg_try_advisory_xact_lock(${String(t.lockSpace)}, hashtext(k))
 ORDER BY first_seq`;

/**
 * Step 2 (a new statement, so a new snapshot taken after the locks were granted): the oldest
 * `$2` pending rows of the locked keys (outside the destinations in `$3`), locked for update. Only the holder of a key's advisory
 * lock claims its rows, so this never waits on another relay.
 */
const claimSql = (t: OutboxTables): string => `
SELECT seq::text AS seq, id, destination, type, partition_key, content_type, payload, headers,
       correlation_id, causation_id, occurred_at,
       CASE WHEN delay_ms IS NULL THEN NULL
            ELSE delay_ms - extract(epoch FROM clock_timestamp() - created_at) * 1000 END::float8 AS remaining_delay_ms,
       (extract(epoch FROM clock_timestamp() - created_at) * 1000)::float8 AS age_ms
  FROM ${t.outbox} AS o
 WHERE dispatched_at IS NULL
   AND coalesce(partition_key, id) = ANY($1::text[])
   AND destination <> ALL($3::text[])
 ORDER BY o.seq -- the bigint column, not the text output column of the same name
 LIMIT $2
   FOR UPDATE`;

/** How many pending rows a relay looks at to find keys (several relays then find different keys). */
const WINDOW_FACTOR = 4;

/**
 * One relay step inside an open transaction on `tx`: lock keys, claim, decode, publish (one transport call
 * per destination, rows in `seq` order), dead-letter undecodable rows, mark the published rows
 * dispatched. Rows of `skipDestinations` are neither claimed nor looked at. A destination that
 * refuses its rows ({@link refusesDestination}) leaves them pending with `attempts`/`last_error`
 * updated and the batch goes on (the caller backs that destination off); any other transport
 * failure stops the batch: rows published so far are marked, the rest stay pending with
 * `attempts`/`last_error` updated (the caller commits, then backs off). Publishing happens
 * before the commit, so a crash between the two republishes (at-least-once).
 */
export async function dispatchBatch(
  tx: SqlClient,
  tables: OutboxTables,
  transport: Transport,
  checks: RowChecks,
  limit: number,
  ensureDestination: (destination: string) => Promise<void>,
  skipDestinations: readonly string[] = [],
): Promise<BatchResult> {
  const skip = [...skipDestinations];
  const keys = await tx.query<{ k: string }>(lockKeysSql(tables), [limit * WINDOW_FACTOR, skip]);
  if (keys.rows.length === 0) return EMPTY;
  const { rows } = await tx.query<OutboxRow>(claimSql(tables), [keys.rows.map((r) => r.k), limit, skip]);
  if (rows.length === 0) return EMPTY;
  const decoded: DecodedRow[] = [];
  for (const row of rows) decoded.push(await decodeRow(row, checks));
  const dead = decoded.filter((d): d is Extract<DecodedRow, { ok: false }> => !d.ok);
  if (dead.length > 0) await deadLetter(tx, tables, dead);
  const byDestination = new Map<string, { seqs: string[]; messages: OutgoingMessage[]; maxAge: number }>();
  for (const d of decoded) {
    if (!d.ok) continue;
    let group = byDestination.get(d.row.destination);
    if (group === undefined)
      byDestination.set(d.row.destination, (group = { seqs: [], messages: [], maxAge: 0 }));
    group.seqs.push(d.row.seq);
    group.messages.push(d.message);
    group.maxAge = Math.max(group.maxAge, d.row.age_ms);
  }
  const dispatched: string[] = [];
  const publishedTo: string[] = [];
  const refused: DestinationRefusal[] = [];
  let maxAgeMs = 0;
  let publishError: unknown;
  const failedSeqs: string[] = [];
  const failedErrors: string[] = [];
  const failed = (seqs: readonly string[], error: unknown): void => {
    const text = describe(error);
    for (const seq of seqs) {
      failedSeqs.push(seq);
      failedErrors.push(text);
    }
  };
  for (const [destination, group] of byDestination) {
    if (publishError !== undefined) {
      failed(group.seqs, publishError);
      continue;
    }
    try {
      await ensureDestination(destination);
      await transport.publish(destination, group.messages);
      dispatched.push(...group.seqs);
      publishedTo.push(destination);
      maxAgeMs = Math.max(maxAgeMs, group.maxAge);
    } catch (error) {
      if (refusesDestination(error)) refused.push({ destination, rows: group.seqs.length, error });
      else publishError = error;
      failed(group.seqs, error);
    }
  }
  if (dispatched.length > 0)
    await tx.query(
      `UPDATE ${tables.outbox} SET dispatched_at = clock_timestamp() WHERE seq = ANY($1::bigint[])`,
      [dispatched],
    );
  if (failedSeqs.length > 0)
    await tx.query(
      `UPDATE ${tables.outbox} AS o SET attempts = o.attempts + 1, last_error = f.error
         FROM unnest($1::bigint[], $2::text[]) AS f(seq, error) WHERE o.seq = f.seq`,
      [failedSeqs, failedErrors],
    );
  return {
    claimed: rows.length,
    published: dispatched.length,
    deadLettered: dead.map((d) => ({ id: d.row.id, seq: d.row.seq, reason: d.reason })),
    maxAgeMs,
    publishedTo,
    refused,
    ...(publishError === undefined ? {} : { publishError }),
  };
}

/** The error as stored in `last_error`: its code (when it has one) and message, at most 1,000 characters. */
function describe(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return (isOmnibusError(error) ? `${error.code}: ${text}` : text).slice(0, 1000);
}

async function deadLetter(
  tx: SqlClient,
  tables: OutboxTables,
  dead: readonly { readonly row: OutboxRow; readonly reason: string }[],
): Promise<void> {
  await tx.query(
    `WITH moved AS (
       DELETE FROM ${tables.outbox} o USING unnest($1::bigint[], $2::text[]) AS d(seq, reason)
        WHERE o.seq = d.seq
       RETURNING o.*, d.reason)
     INSERT INTO ${tables.deadLetter}
       (seq, id, destination, type, partition_key, content_type, payload, headers, correlation_id, causation_id, occurred_at, created_at, reason)
     SELECT seq, id, destination, type, partition_key, content_type, payload, headers, correlation_id, causation_id, occurred_at, created_at, reason
       FROM moved`,
    [dead.map((d) => d.row.seq), dead.map((d) => d.reason)],
  );
}
