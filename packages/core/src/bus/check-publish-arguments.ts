import { ErrorCodes } from '../errors/error-codes.js';
import { OmnibusError } from '../errors/omnibus-error.js';
import type { EventDefinition } from '../events/event-definition.js';
import type { PublishOptions } from './publish-options.js';

/**
 * Run-time checks of `publish`/`publishBatch` arguments, for callers the type checker cannot
 * protect (plain JavaScript, casts). A handful of `typeof` tests, no allocation on the valid path.
 * Each throws `ARGUMENT_INVALID` (or `VALIDATION_FAILED` for a missing payload) before anything
 * reaches a transport.
 */
export function checkEventArgument(
  method: string,
  event: unknown,
): asserts event is EventDefinition<unknown> {
  if (typeof event === 'object' && event !== null) {
    const { name, destination } = event as { name?: unknown; destination?: unknown };
    if (
      typeof name === 'string' &&
      name !== '' &&
      (destination === undefined || typeof destination === 'string')
    )
      return;
  }
  throw invalid(
    `${method}: the first argument must be an event definition from defineEvent(), got ${describe(event)}` +
      (typeof event === 'object' && event !== null ? ' without a non-empty string "name"' : '') +
      (typeof event === 'string' ? ` (declare it once with defineEvent('${event}') and publish that)` : ''),
  );
}

/** `payload` must be present (`undefined` is never a valid event payload). */
export function checkPayloadArgument(method: string, eventName: string, payload: unknown): void {
  if (payload === undefined)
    throw new OmnibusError(
      ErrorCodes.VALIDATION_FAILED,
      `${method}: the payload of ${eventName} is undefined; pass the event's data as the second argument`,
    );
}

/** Publish options: an object whose present fields have the documented types. */
export function checkPublishOptions(method: string, options: unknown): asserts options is PublishOptions {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    throw invalid(`${method}: options must be an object, got ${describe(options)}`);
  const o = options as Record<string, unknown>;
  for (const field of ['id', 'partitionKey', 'correlationId', 'causationId'] as const) {
    const value = o[field];
    if (value !== undefined && typeof value !== 'string')
      throw invalid(`${method}: options.${field} must be a string, got ${describe(value)}`);
  }
  if (o['delayMs'] !== undefined && typeof o['delayMs'] !== 'number')
    throw invalid(
      `${method}: options.delayMs must be a number of milliseconds, got ${describe(o['delayMs'])}`,
    );
  const occurredAt = o['occurredAt'];
  if (occurredAt !== undefined && !(occurredAt instanceof Date && Number.isFinite(occurredAt.getTime())))
    throw invalid(`${method}: options.occurredAt must be a valid Date, got ${describe(occurredAt)}`);
  const headers = o['headers'];
  if (headers !== undefined && (typeof headers !== 'object' || headers === null || Array.isArray(headers)))
    throw invalid(`${method}: options.headers must be an object of string values, got ${describe(headers)}`);
}

/** `publishBatch` payloads must be an array. */
export function checkBatchArgument(payloads: unknown): asserts payloads is readonly unknown[] {
  if (!Array.isArray(payloads))
    throw invalid(
      `publishBatch: the second argument must be an array of payloads, got ${describe(payloads)}`,
    );
}

function invalid(message: string): OmnibusError {
  return new OmnibusError(ErrorCodes.ARGUMENT_INVALID, message);
}

/** A short description of a value for an error message. */
function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'an invalid Date';
  if (typeof value === 'string')
    return `the string ${JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value)}`;
  if (typeof value === 'object' || typeof value === 'function') return `a ${typeof value}`;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return `${typeof value} ${value.toString()}`;
  return typeof value;
}
