import { redactUrl } from '../config/option-schema.js';
import { ErrorCodes } from '../errors/error-codes.js';
import type { ErrorCode } from '../errors/error-codes.js';
import { isOmnibusError, OmnibusError } from '../errors/omnibus-error.js';

/**
 * The text of anything a client threw (`Error.message`, else `String(error)`), with credentials
 * in URLs redacted, for error messages and logs.
 */
export function describeError(error: unknown): string {
  if (error instanceof Error) return redactUrl(error.message);
  return redactUrl(String(error));
}

/**
 * A typed error with `code` whose cause is `error`, for an adapter's error mapper. An
 * `OmnibusError` that already has `code` is returned unchanged (mapping twice is harmless); one
 * with another code becomes the cause and keeps its own `retriable`. The message is redacted.
 */
export function wrapError(
  code: ErrorCode,
  message: string,
  error: unknown,
  retriable: boolean,
): OmnibusError {
  if (isOmnibusError(error)) {
    if (error.code === code) return error;
    return new OmnibusError(code, redactUrl(message), { retriable: error.retriable, cause: error });
  }
  return new OmnibusError(code, redactUrl(message), { retriable, cause: error });
}

/**
 * `BUS_CLOSED` (not retriable) for a call on a transport after `close()`:
 * `"<transport> transport is closed"`, plus `": cannot <operation>"` when given.
 */
export function closedTransportError(transport: string, operation?: string): OmnibusError {
  const what = operation === undefined ? '' : `: cannot ${operation}`;
  return new OmnibusError(ErrorCodes.BUS_CLOSED, `${transport} transport is closed${what}`, {
    retriable: false,
  });
}

/**
 * Anything a client threw as an `Error` safe to hand to status listeners: the message redacted,
 * the name kept, the original as `cause`.
 */
export function redactedError(error: unknown): Error {
  if (error instanceof Error) {
    const copy = new Error(describeError(error), { cause: error });
    copy.name = error.name;
    return copy;
  }
  return new Error(describeError(error));
}
