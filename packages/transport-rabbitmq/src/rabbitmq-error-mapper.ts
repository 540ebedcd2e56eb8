import { ErrorCodes, OmnibusError, noSubscribersError, redactUrl } from '@omnibus/core';
import {
  closedTransportError,
  describeError as describe,
  redactedError,
  wrapError as wrap,
} from '@omnibus/core/adapter-kit';

/**
 * The one place where amqplib / RabbitMQ errors become {@link OmnibusError}s. Every message is
 * passed through `redactUrl`, so a URL with credentials never reaches a log.
 */

/** AMQP reply codes the adapter reacts to. */
export const AmqpReplyCodes = {
  CONNECTION_FORCED: 320,
  NOT_FOUND: 404,
  ACCESS_REFUSED: 403,
  RESOURCE_LOCKED: 405,
  PRECONDITION_FAILED: 406,
  INTERNAL_ERROR: 541,
} as const;

/** Numeric AMQP reply code of an amqplib channel/connection error, if any. */
export function amqpReplyCode(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

/** True when the error only says that the channel/connection is gone (work may be retried elsewhere). */
export function isChannelGone(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'IllegalOperationError') return true;
  const message = error.message.toLowerCase();
  return (
    message.includes('channel closed') ||
    message.includes('connection closed') ||
    message.includes('channel ended')
  );
}

/** True when a network-level error (refused, reset, timeout, DNS) caused the failure. */
function isNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(E[A-Z]+|ERR_TLS_.*|ERR_SSL_.*)$/.test(code);
}

/** Connection could not be opened (any URL). Retriable unless credentials/vhost were refused. */
export function connectionError(error: unknown, urls: readonly string[]): OmnibusError {
  const refused =
    amqpReplyCode(error) === AmqpReplyCodes.ACCESS_REFUSED ||
    /ACCESS_REFUSED|authentication/i.test(describe(error));
  const where = urls.map(redactUrl).join(', ');
  return wrap(
    ErrorCodes.CONNECTION_FAILED,
    `RabbitMQ: cannot connect to ${where}: ${describe(error)}`,
    error,
    !refused,
  );
}

/** Declaring or checking topology failed. */
export function provisioningError(error: unknown, what: string): OmnibusError {
  const code = amqpReplyCode(error);
  let hint = '';
  if (code === AmqpReplyCodes.NOT_FOUND) hint = ' (missing: provision it, or use provisioning "create")';
  if (code === AmqpReplyCodes.PRECONDITION_FAILED) {
    hint =
      ' (it exists with different arguments: queue type, ordering or TTL changed; delete it or use another prefix)';
  }
  return wrap(
    ErrorCodes.PROVISIONING_FAILED,
    `RabbitMQ: provisioning ${what} failed: ${describe(error)}${hint}`,
    error,
    isChannelGone(error) || isNetworkError(error),
  );
}

/** A publish was refused, not confirmed, or timed out. */
export function publishError(error: unknown, destination: string): OmnibusError {
  if (error instanceof RangeError) {
    return wrap(
      ErrorCodes.PAYLOAD_TOO_LARGE,
      `RabbitMQ: message for "${destination}" cannot be encoded: ${describe(error)}`,
      error,
      false,
    );
  }
  return wrap(
    ErrorCodes.PUBLISH_FAILED,
    `RabbitMQ: publish to "${destination}" failed: ${describe(error)}`,
    error,
    isChannelGone(error) || isNetworkError(error) || /nack/i.test(describe(error)),
  );
}

/**
 * A message was returned by the broker because no queue is bound to its destination: no
 * consumer group subscribes to it (ADR 0005), `NO_SUBSCRIBERS`, retriable.
 */
export function unroutableError(destination: string): OmnibusError {
  return noSubscribersError('RabbitMQ', destination);
}

/** A publish could not complete before its deadline (broker down or not confirming). */
export function publishTimeoutError(destination: string, timeoutMs: number, cause?: unknown): OmnibusError {
  return new OmnibusError(
    ErrorCodes.PUBLISH_FAILED,
    `RabbitMQ: publish to "${destination}" not confirmed within ${String(timeoutMs)} ms${cause === undefined ? '' : `: ${describe(cause)}`}`,
    { retriable: true, cause },
  );
}

/** Starting a consumer failed. */
export function subscribeError(error: unknown, destination: string, group: string): OmnibusError {
  const code = amqpReplyCode(error);
  const hint =
    code === AmqpReplyCodes.PRECONDITION_FAILED
      ? ' (the group queue exists with different arguments, e.g. ordered vs unordered or another queue type)'
      : code === AmqpReplyCodes.NOT_FOUND
        ? ' (the group queue does not exist: provision it)'
        : '';
  return wrap(
    ErrorCodes.SUBSCRIBE_FAILED,
    `RabbitMQ: subscribing group "${group}" to "${destination}" failed: ${describe(error)}${hint}`,
    error,
    isChannelGone(error) || isNetworkError(error),
  );
}

/** Retry or dead-letter could not be made durable; the message is returned to its queue instead. */
export function settlementError(
  error: unknown,
  action: string,
  destination: string,
  group: string,
): OmnibusError {
  return new OmnibusError(
    ErrorCodes.SETTLEMENT_FAILED,
    `RabbitMQ: ${action} for group "${group}" of "${destination}" failed, message returned to the queue: ${describe(error)}`,
    { retriable: true, cause: error },
  );
}

/** An operation on a closed transport. */
export function closedError(operation: string): OmnibusError {
  return closedTransportError('RabbitMQ', operation);
}

/** Anything thrown by the client as an `Error` for status listeners (message redacted). */
export const asError = redactedError;
