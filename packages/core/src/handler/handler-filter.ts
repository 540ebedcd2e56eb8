import { UnrecoverableError } from '../errors/unrecoverable-error.js';
import type { MessageHeaders } from '../message/envelope.js';
import { isReservedHeader } from '../message/wire-headers.js';

/**
 * A content-based filter on one handler: messages that do not match are acked without running
 * the handler (outcome `filtered`, counted like every settlement), never retried or
 * dead-lettered. Both parts must match when both are given.
 */
export interface HandlerFilter<T = unknown> {
  /**
   * Header-only part: every listed application header must be present with exactly this value.
   * Declarative, so a transport may evaluate it on the broker; the router evaluates it too.
   */
  readonly headers?: Readonly<Record<string, string>>;
  /**
   * Predicate on the decoded, upcast and validated payload and the application headers. Must be
   * synchronous and pure. A predicate that throws dead-letters the message at once with code
   * `FILTER_FAILED` and the error as reason.
   */
  where?(payload: T, headers: MessageHeaders): boolean;
}

/** Dead-letter code of a message whose handler filter threw. */
export const FILTER_FAILED = 'FILTER_FAILED';
/** Settlement reason code of a filtered-out message (outcome `filtered`). */
export const FILTERED = 'FILTERED';

/** Problems with a filter as written (for the start-up configuration error). Pure. */
export function filterProblems(filter: unknown): string[] {
  if (typeof filter !== 'object' || filter === null) return ['filter must be an object { headers?, where? }'];
  const problems: string[] = [];
  const { headers, where, ...rest } = filter as Record<string, unknown>;
  for (const key of Object.keys(rest))
    problems.push(`unknown filter option "${key}" (known: headers, where)`);
  if (headers !== undefined) {
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers))
      problems.push('filter.headers must be an object of header names to string values');
    else
      for (const [name, value] of Object.entries(headers)) {
        if (typeof value !== 'string') problems.push(`filter.headers["${name}"] must be a string`);
        if (isReservedHeader(name))
          problems.push(`filter.headers["${name}"] is a reserved header; filter on application headers`);
      }
  }
  if (where !== undefined && typeof where !== 'function') problems.push('filter.where must be a function');
  return problems;
}

/** True when every listed header has exactly the listed value. Pure. */
export function headersMatch(expected: Readonly<Record<string, string>>, headers: MessageHeaders): boolean {
  for (const name in expected) {
    if (headers[name] !== expected[name]) return false;
  }
  return true;
}

/**
 * Evaluate a filter against one message.
 *
 * @throws UnrecoverableError `FILTER_FAILED` when `where` throws or returns a non-boolean.
 */
export function matchesFilter(
  filter: HandlerFilter,
  handlerName: string,
  payload: unknown,
  headers: MessageHeaders,
): boolean {
  if (filter.headers !== undefined && !headersMatch(filter.headers, headers)) return false;
  if (filter.where === undefined) return true;
  let result: unknown;
  try {
    result = filter.where(payload, headers);
  } catch (error) {
    throw new UnrecoverableError(
      `filter of ${handlerName} threw: ${error instanceof Error ? error.message : String(error)}`,
      { code: FILTER_FAILED, cause: error },
    );
  }
  if (typeof result !== 'boolean')
    throw new UnrecoverableError(
      `filter of ${handlerName} returned ${result === null ? 'null' : typeof result}, not a boolean (a promise? filters must be synchronous)`,
      { code: FILTER_FAILED },
    );
  return result;
}
