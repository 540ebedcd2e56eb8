import { ErrorCodes, OmnibusError, isOmnibusError, redactUrl } from '@omnibus/core';
import {
  closedTransportError,
  describeError as describe,
  redactedError,
  wrapError as wrap,
} from '@omnibus/core/adapter-kit';

/**
 * The one place where NATS client and JetStream API errors become {@link OmnibusError}s. Every
 * message goes through `redactUrl`, so a server URL with credentials never reaches a log.
 */

/** JetStream API error codes (`err_code`) the adapter reacts to. */
export const JetStreamErrorCodes = {
  STREAM_NOT_FOUND: 10059,
  CONSUMER_NOT_FOUND: 10014,
  STREAM_NAME_IN_USE: 10058,
  CONSUMER_NAME_EXISTS: 10013,
  MESSAGE_TOO_LARGE: 10054,
} as const;

/** The JetStream API `err_code` of an error, if it carries one. */
export function jetStreamErrorCode(error: unknown): number | undefined {
  const apiError = (error as { api_error?: { err_code?: unknown } } | null)?.api_error;
  if (typeof apiError?.err_code === 'number') return apiError.err_code;
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' && code >= 10_000 ? code : undefined;
}

/** True when the failure says no stream captures the subject (no responders / 503). */
export function isNoResponders(error: unknown): boolean {
  return /no responders|503/i.test(describe(error)) || /NoResponders/.test(nameOf(error));
}

/**
 * True when the server answers but its JetStream is not running: for a few seconds after a
 * server restart, while it recovers its streams (or for good on a server started without `-js`).
 */
export function isJetStreamNotEnabled(error: unknown): boolean {
  return /jetstream is not enabled/i.test(describe(error)) || /JetStreamNotEnabled/.test(nameOf(error));
}

/** True when the failure only says the connection is gone or not answering (worth retrying). */
export function isTransient(error: unknown): boolean {
  const text = `${nameOf(error)} ${describe(error)}`;
  return (
    /timeout|timed out|disconnect|closed|connection|reconnect|draining|ECONN|EPIPE|ETIMEDOUT|no responders|503/i.test(
      text,
    ) || isJetStreamNotEnabled(error)
  );
}

function nameOf(error: unknown): string {
  return error instanceof Error ? error.name : '';
}

/** The connection (or JetStream) could not be reached within the connect timeout. */
export function connectionError(error: unknown, servers: readonly string[]): OmnibusError {
  const refused = /authorization|authentication|permissions/i.test(describe(error));
  return wrap(
    ErrorCodes.CONNECTION_FAILED,
    `NATS: cannot connect to ${servers.map(redactUrl).join(', ')}: ${describe(error)}`,
    error,
    !refused,
  );
}

/** Adding or checking a stream or consumer failed. */
export function provisioningError(error: unknown, what: string): OmnibusError {
  const code = jetStreamErrorCode(error);
  let hint = '';
  if (code === JetStreamErrorCodes.STREAM_NOT_FOUND || code === JetStreamErrorCodes.CONSUMER_NOT_FOUND)
    hint = ' (missing: provision it, or use provisioning "create")';
  if (code === JetStreamErrorCodes.STREAM_NAME_IN_USE || code === JetStreamErrorCodes.CONSUMER_NAME_EXISTS)
    hint =
      ' (it exists with a different configuration: ordering, partitions, storage or duplicate window changed; delete it or use another prefix)';
  return wrap(
    ErrorCodes.PROVISIONING_FAILED,
    `NATS: provisioning ${what} failed: ${describe(error)}${hint}`,
    error,
    isTransient(error),
  );
}

/** Deleting a stream or consumer (or purging a group's dead letters) failed for good. */
export function deletionError(error: unknown, what: string): OmnibusError {
  if (isOmnibusError(error)) return error;
  return wrap(
    ErrorCodes.PROVISIONING_FAILED,
    `NATS: deleting ${what} failed: ${describe(error)}`,
    error,
    isTransient(error),
  );
}

/** A topology deletion ran out of time; `left` names what still exists (retriable). */
export function deletionTimedOut(timeoutMs: number, left: readonly string[], cause?: unknown): OmnibusError {
  return new OmnibusError(
    ErrorCodes.PROVISIONING_FAILED,
    `NATS: topology deletion did not finish within ${String(timeoutMs)} ms; left: ${left.join(', ')}${
      cause === undefined ? '' : ` (last error: ${describe(cause)})`
    }`,
    { retriable: true, ...(cause === undefined ? {} : { cause }) },
  );
}

/** A publish was refused, not acknowledged by JetStream, or timed out. */
export function publishError(error: unknown, destination: string): OmnibusError {
  // Already typed (NO_SUBSCRIBERS, a publish deadline that passed, BUS_CLOSED): kept as is.
  if (isOmnibusError(error)) return error;
  if (
    jetStreamErrorCode(error) === JetStreamErrorCodes.MESSAGE_TOO_LARGE ||
    /max.?payload/i.test(describe(error))
  ) {
    return wrap(
      ErrorCodes.PAYLOAD_TOO_LARGE,
      `NATS: message for "${destination}" exceeds the server's size limit: ${describe(error)}`,
      error,
      false,
    );
  }
  const hint = isJetStreamNotEnabled(error)
    ? ' (JetStream is not running on the server: it is still starting after a restart, or the server runs without -js)'
    : isNoResponders(error)
      ? ' (no stream captures it: provision the destination first)'
      : '';
  return wrap(
    ErrorCodes.PUBLISH_FAILED,
    `NATS: publish to "${destination}" failed: ${describe(error)}${hint}`,
    error,
    isTransient(error),
  );
}

/** Starting a pull consumer failed. */
export function subscribeError(error: unknown, destination: string, group: string): OmnibusError {
  const code = jetStreamErrorCode(error);
  const hint =
    code === JetStreamErrorCodes.STREAM_NOT_FOUND
      ? ' (the destination does not exist: provision it)'
      : code === JetStreamErrorCodes.CONSUMER_NOT_FOUND
        ? ' (the group does not exist: provision it)'
        : '';
  return wrap(
    ErrorCodes.SUBSCRIBE_FAILED,
    `NATS: subscribing group "${group}" to "${destination}" failed: ${describe(error)}${hint}`,
    error,
    isTransient(error),
  );
}

/** An ack, retry or dead-letter could not be confirmed; the server redelivers the message. */
export function settlementError(
  error: unknown,
  action: string,
  destination: string,
  group: string,
): OmnibusError {
  return wrap(
    ErrorCodes.SETTLEMENT_FAILED,
    `NATS: ${action} for group "${group}" of "${destination}" failed, the message will be redelivered: ${describe(error)}`,
    error,
    true,
  );
}

/** An operation on a closed transport. */
export function closedError(operation: string): OmnibusError {
  return closedTransportError('NATS', operation);
}

/** Anything thrown by the client as an `Error` for status listeners (message redacted). */
export const asError = redactedError;
