import { ErrorCodes } from '../errors/error-codes.js';
import { OmnibusError, isOmnibusError } from '../errors/omnibus-error.js';
import type { MessageHeaders } from '../message/envelope.js';
import { envelopeFromWire, readDeadLetterInfo } from '../message/wire-headers.js';
import {
  checkDeadLetterQuery,
  matchesDeadLetterQuery,
  replayCountOf,
  replayWireHeaders,
} from './dead-letter-query.js';
import type {
  DeadLetterQuery,
  DeadLetterRecord,
  DeadLetterStore,
  PurgeResult,
  ReplayOptions,
  ReplayResult,
} from './dead-letter-store.js';
import { LOOP_GUARD } from './dead-letter-store.js';

/** One message of a dead-letter destination, held by a {@link DeadLetterCursor}. */
export interface ScannedDeadLetter {
  /** Wire headers of the dead-lettered copy (original headers plus `omnibus-dead-letter-*`). */
  readonly headers: MessageHeaders;
  readonly payload: Uint8Array;
  /** Broker message id, used when the copy carries no `ce-id`. */
  readonly brokerMessageId?: string;
  /** Broker enqueue time, used when the copy carries no dead-letter time. */
  readonly enqueuedAt?: Date;
  /** Remove this message from the dead-letter destination for good. */
  remove(): Promise<void>;
}

/**
 * A pass over one dead-letter destination. `next` hands out each message at most once and
 * holds it (invisible to other readers) until `close`, which gives back every message not
 * removed, in its place where the broker allows.
 */
export interface DeadLetterCursor {
  /** The next message, or `undefined` when every message was handed out. */
  next(): Promise<ScannedDeadLetter | undefined>;
  /** Give back what was not removed. Idempotent. */
  close(): Promise<void>;
}

/** What an adapter provides to get a {@link DeadLetterStore} from {@link cursorDeadLetterStore}. */
export interface DeadLetterCursorSource {
  /** Open a pass over the dead letters of (destination, group). */
  open(destination: string, group: string): Promise<DeadLetterCursor>;
  /**
   * Send a copy to the group that dead-lettered it, and only to that group, with exactly these
   * wire headers and payload. Resolves once the broker durably accepted it.
   */
  republish(
    destination: string,
    group: string,
    headers: Record<string, string>,
    payload: Uint8Array,
  ): Promise<void>;
}

function recordOf(scanned: ScannedDeadLetter, destination: string, group: string): DeadLetterRecord {
  const envelope = envelopeFromWire({
    headers: scanned.headers,
    payload: scanned.payload,
    ...(scanned.brokerMessageId === undefined ? {} : { fallbackId: scanned.brokerMessageId }),
    ...(scanned.enqueuedAt === undefined ? {} : { fallbackTime: scanned.enqueuedAt }),
  });
  const info = readDeadLetterInfo(scanned.headers) ?? {
    code: '',
    message: '',
    attempts: 0,
    destination,
    group,
    at: scanned.enqueuedAt ?? new Date(0),
  };
  return { envelope, info, replayCount: replayCountOf(scanned.headers) };
}

function failure(action: string, query: DeadLetterQuery, error: unknown): OmnibusError {
  if (isOmnibusError(error) && error.code === ErrorCodes.DEAD_LETTER_QUERY_INVALID) return error;
  const detail = error instanceof Error ? error.message : String(error);
  return new OmnibusError(
    ErrorCodes.DEAD_LETTER_FAILED,
    `Dead-letter ${action} of ${query.destination}/${query.group} failed: ${detail}`,
    { cause: error, retriable: true },
  );
}

/**
 * Build a {@link DeadLetterStore} from an adapter's native cursor and republish: filtering,
 * limits, the loop guard, dry runs and progress live here, once for every transport. Each
 * operation is one pass over the dead-letter destination; the cursor is always closed.
 */
export function cursorDeadLetterStore(source: DeadLetterCursorSource): DeadLetterStore {
  async function scan(
    action: string,
    query: DeadLetterQuery,
    visit: (record: DeadLetterRecord, scanned: ScannedDeadLetter) => Promise<void>,
  ): Promise<void> {
    checkDeadLetterQuery(query);
    let cursor: DeadLetterCursor | undefined;
    try {
      cursor = await source.open(query.destination, query.group);
      let matched = 0;
      // A copy replayed by this pass that dead-letters again before the pass ends is left alone.
      const visited = new Set<string>();
      while (query.limit === undefined || matched < query.limit) {
        const scanned = await cursor.next();
        if (scanned === undefined) break;
        const record = recordOf(scanned, query.destination, query.group);
        const key = `${record.envelope.id}\u0000${String(record.replayCount)}`;
        if (visited.has(`${record.envelope.id}\u0000${String(record.replayCount - 1)}`)) continue;
        if (!matchesDeadLetterQuery(record, query)) continue;
        visited.add(key);
        matched += 1;
        await visit(record, scanned);
      }
    } catch (error) {
      throw failure(action, query, error);
    } finally {
      await cursor?.close().catch(() => undefined);
    }
  }

  return {
    async list(query: DeadLetterQuery): Promise<DeadLetterRecord[]> {
      const records: DeadLetterRecord[] = [];
      await scan('list', query, (record) => {
        records.push(record);
        return Promise.resolve();
      });
      return records;
    },
    async replay(query: DeadLetterQuery, options: ReplayOptions = {}): Promise<ReplayResult> {
      const replayed: DeadLetterRecord[] = [];
      const skipped: { record: DeadLetterRecord; reason: string }[] = [];
      await scan('replay', query, async (record, scanned) => {
        if (record.replayCount > 0 && options.includeReplayed !== true) {
          skipped.push({ record, reason: LOOP_GUARD });
          return;
        }
        if (options.dryRun !== true) {
          await source.republish(
            query.destination,
            query.group,
            replayWireHeaders(scanned.headers),
            scanned.payload,
          );
          await scanned.remove();
        }
        replayed.push(record);
        options.onProgress?.(replayed.length, record);
      });
      return { replayed, skipped };
    },
    async purge(query: DeadLetterQuery, options: { readonly dryRun?: boolean } = {}): Promise<PurgeResult> {
      const purged: DeadLetterRecord[] = [];
      await scan('purge', query, async (record, scanned) => {
        if (options.dryRun !== true) await scanned.remove();
        purged.push(record);
      });
      return { purged };
    },
  };
}
