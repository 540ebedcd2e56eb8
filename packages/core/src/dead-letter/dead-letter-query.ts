import { ErrorCodes } from '../errors/error-codes.js';
import { OmnibusError } from '../errors/omnibus-error.js';
import type { MessageHeaders } from '../message/envelope.js';
import { WireHeaders } from '../message/wire-headers.js';
import type { DeadLetterQuery, DeadLetterRecord } from './dead-letter-store.js';
import { REPLAY_COUNT_HEADER, REPLAYED_AT_HEADER } from './dead-letter-store.js';

function isDate(value: unknown): value is Date {
  return value instanceof Date && !Number.isNaN(value.getTime());
}

/**
 * Check a query, naming every problem in one `DEAD_LETTER_QUERY_INVALID` error. Pure; throws.
 */
export function checkDeadLetterQuery(query: DeadLetterQuery): void {
  const problems: string[] = [];
  if (typeof query.destination !== 'string' || query.destination === '')
    problems.push('destination must be a non-empty string');
  if (typeof query.group !== 'string' || query.group === '')
    problems.push('group must be a non-empty string');
  for (const key of ['codes', 'types', 'ids'] as const) {
    const values = query[key];
    if (values !== undefined && (!Array.isArray(values) || values.some((v) => typeof v !== 'string')))
      problems.push(`${key} must be an array of strings`);
  }
  if (query.since !== undefined && !isDate(query.since)) problems.push('since must be a valid Date');
  if (query.until !== undefined && !isDate(query.until)) problems.push('until must be a valid Date');
  if (query.limit !== undefined && (!Number.isInteger(query.limit) || query.limit < 1))
    problems.push(`limit must be a positive integer, got ${String(query.limit)}`);
  if (problems.length > 0)
    throw new OmnibusError(
      ErrorCodes.DEAD_LETTER_QUERY_INVALID,
      `Invalid dead-letter query: ${problems.join('; ')}`,
    );
}

/** True when `record` satisfies every filter of `query` (destination and group are not compared). */
export function matchesDeadLetterQuery(record: DeadLetterRecord, query: DeadLetterQuery): boolean {
  if (query.codes !== undefined && !query.codes.includes(record.info.code)) return false;
  if (query.types !== undefined && !query.types.includes(record.envelope.type)) return false;
  if (query.ids !== undefined && !query.ids.includes(record.envelope.id)) return false;
  const at = record.info.at.getTime();
  if (query.since !== undefined && at < query.since.getTime()) return false;
  if (query.until !== undefined && at >= query.until.getTime()) return false;
  return true;
}

/** The replay count carried by a message's headers (0 when absent or unreadable). */
export function replayCountOf(headers: MessageHeaders): number {
  const count = Number(headers[REPLAY_COUNT_HEADER] ?? '0');
  return Number.isInteger(count) && count > 0 ? count : 0;
}

const DEAD_LETTER_HEADERS = new Set<string>([
  WireHeaders.deadLetterCode,
  WireHeaders.deadLetterReason,
  WireHeaders.deadLetterAttempts,
  WireHeaders.deadLetterDestination,
  WireHeaders.deadLetterGroup,
  WireHeaders.deadLetterAt,
  WireHeaders.deliveryAttempt,
]);

/**
 * Wire headers of a replayed copy: the dead letter's headers without the dead-letter details
 * and attempt count, with {@link REPLAY_COUNT_HEADER} incremented and {@link REPLAYED_AT_HEADER}
 * set. Pure.
 */
export function replayWireHeaders(
  deadLetterHeaders: MessageHeaders,
  now = new Date(),
): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(deadLetterHeaders)) {
    if (!DEAD_LETTER_HEADERS.has(name)) headers[name] = value;
  }
  headers[REPLAY_COUNT_HEADER] = String(replayCountOf(deadLetterHeaders) + 1);
  headers[REPLAYED_AT_HEADER] = now.toISOString();
  return headers;
}
