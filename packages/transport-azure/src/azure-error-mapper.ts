import { ErrorCodes, OmnibusError, isOmnibusError } from '@omnibus/core';
import type { ErrorCode } from '@omnibus/core';

/** The transport operation an SDK error happened in; decides the Omnibus error code. */
export type AzureOperation = 'connect' | 'provision' | 'publish' | 'settle' | 'subscribe' | 'receive';

const CODE_BY_OPERATION: Readonly<Record<AzureOperation, ErrorCode>> = {
  connect: ErrorCodes.CONNECTION_FAILED,
  provision: ErrorCodes.PROVISIONING_FAILED,
  publish: ErrorCodes.PUBLISH_FAILED,
  settle: ErrorCodes.SETTLEMENT_FAILED,
  subscribe: ErrorCodes.SUBSCRIBE_FAILED,
  receive: ErrorCodes.SUBSCRIBE_FAILED,
};

/** Service Bus error codes (`ServiceBusError.code`) where the same call may succeed later. */
const RETRIABLE_SERVICE_BUS_CODES = new Set([
  'ServiceBusy',
  'ServiceTimeout',
  'ServiceCommunicationProblem',
  'SessionCannotBeLocked',
  'QuotaExceeded',
]);

/** Node/network error codes meaning "could not reach the namespace". */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EPIPE',
  'EHOSTUNREACH',
]);

/** Lock-related codes: the message will be redelivered by the broker, nothing is lost. */
const LOCK_LOST_CODES = new Set(['MessageLockLost', 'SessionLockLost']);

/** Shape of the SDK errors we inspect (ServiceBusError, MessagingError, RestError, system errors). */
interface SdkErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly retryable?: unknown;
  readonly statusCode?: unknown;
}

/**
 * Map any error thrown by `@azure/service-bus` (AMQP `ServiceBusError`, admin `RestError`,
 * network errors) to an {@link OmnibusError}. The one place SDK errors are translated.
 *
 * - `MessageSizeExceeded` → `PAYLOAD_TOO_LARGE` (never retriable).
 * - Busy/timeout/communication problems and network errors → retriable.
 * - Authorization, missing or disabled entities → not retriable.
 * - Omnibus errors pass through unchanged.
 *
 * Pure; the message names the operation and the SDK code, never credentials.
 */
export function mapAzureError(error: unknown, operation: AzureOperation, subject?: string): OmnibusError {
  if (isOmnibusError(error)) return error;
  const e = (typeof error === 'object' && error !== null ? error : {}) as SdkErrorLike;
  const sdkCode = typeof e.code === 'string' ? e.code : undefined;
  const status = typeof e.statusCode === 'number' ? e.statusCode : undefined;
  const detail = typeof e.message === 'string' ? e.message : String(error);
  const where = subject === undefined ? operation : `${operation} ${subject}`;
  const label = sdkCode ?? (status === undefined ? 'error' : `HTTP ${String(status)}`);
  const message = `Azure Service Bus ${where} failed (${label}): ${detail}`;
  if (sdkCode === 'MessageSizeExceeded' || status === 413) {
    return new OmnibusError(ErrorCodes.PAYLOAD_TOO_LARGE, message, { retriable: false, cause: error });
  }
  return new OmnibusError(CODE_BY_OPERATION[operation], message, {
    retriable: isRetriable(e, sdkCode, status),
    cause: error,
  });
}

/** True when the error says the broker will redeliver the message (its lock is gone). */
export function isLockLost(error: unknown): boolean {
  const cause = isOmnibusError(error) ? error.cause : error;
  const code = typeof cause === 'object' && cause !== null ? (cause as SdkErrorLike).code : undefined;
  return typeof code === 'string' && LOCK_LOST_CODES.has(code);
}

/** True when the error is the SDK's "no session is available right now" (an idle namespace, not a fault). */
export function isNoSessionAvailable(error: unknown): boolean {
  const code = typeof error === 'object' && error !== null ? (error as SdkErrorLike).code : undefined;
  return code === 'SessionCannotBeLocked' || code === 'ServiceTimeout' || code === 'OperationTimeoutError';
}

/** True for an `AbortError` raised because we aborted a pending SDK call on close. */
export function isAbortError(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as SdkErrorLike).name === 'AbortError';
}

/** True when the error is "entity does not exist" (AMQP not-found or HTTP 404). */
export function isEntityNotFound(error: unknown): boolean {
  const e = typeof error === 'object' && error !== null ? (error as SdkErrorLike) : {};
  return e.code === 'MessagingEntityNotFound' || e.statusCode === 404;
}

function isRetriable(e: SdkErrorLike, sdkCode: string | undefined, status: number | undefined): boolean {
  if (sdkCode !== undefined && RETRIABLE_SERVICE_BUS_CODES.has(sdkCode)) return true;
  if (sdkCode !== undefined && NETWORK_CODES.has(sdkCode)) return true;
  // core-amqp wraps socket errors as MessagingError "GeneralError" with the system code only in the message.
  const prefix = typeof e.message === 'string' ? /^([A-Z]+):/.exec(e.message)?.[1] : undefined;
  if (prefix !== undefined && NETWORK_CODES.has(prefix)) return true;
  if (status !== undefined) return status === 408 || status === 429 || status >= 500;
  if (sdkCode === 'GeneralError' || sdkCode === undefined) return e.retryable === true;
  return false;
}
