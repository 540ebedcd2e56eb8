import { OmnibusError, isOmnibusError, type ErrorCode } from '@omnibus/core';

/**
 * The one place where AWS SDK (SQS and SNS) errors become {@link OmnibusError}s. Pure.
 */

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
]);
const TRANSIENT_NAMES = new Set([
  'TimeoutError',
  'RequestTimeout',
  'RequestTimeoutException',
  'ThrottlingException',
  'Throttling',
  'Throttled',
  'RequestThrottled',
  'OverLimit',
  'KmsThrottled',
  'ServiceUnavailable',
  'InternalError',
  'InternalFailure',
  'InternalErrorException',
  'QueueDeletedRecently',
]);
const QUEUE_MISSING_NAMES = new Set([
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'NonExistentQueue',
]);
const TOPIC_MISSING_NAMES = new Set(['NotFound', 'NotFoundException']);
const RECEIPT_GONE_NAMES = new Set(['ReceiptHandleIsInvalid', 'MessageNotInflight', 'InvalidReceiptHandle']);
const QUEUE_EXISTS_NAMES = new Set([
  'QueueNameExists',
  'QueueAlreadyExists',
  'AWS.SimpleQueueService.QueueNameExists',
]);

interface SdkErrorLike {
  readonly name?: unknown;
  readonly code?: unknown;
  readonly message?: unknown;
  readonly $retryable?: unknown;
  readonly $metadata?: { readonly httpStatusCode?: number };
  readonly cause?: unknown;
}

function fields(error: unknown): SdkErrorLike {
  return typeof error === 'object' && error !== null ? error : {};
}

function nameOf(error: unknown): string {
  const e = fields(error);
  return typeof e.name === 'string' ? e.name : '';
}

/** True when the error says the network/server is (briefly) unavailable or throttling. */
export function isTransientSqsError(error: unknown): boolean {
  const e = fields(error);
  if (isOmnibusError(error)) return error.retriable;
  if (TRANSIENT_NAMES.has(nameOf(error))) return true;
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return true;
  if (e.$retryable !== undefined && e.$retryable !== null && e.$retryable !== false) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && (status >= 500 || status === 429)) return true;
  if (e.cause !== undefined && e.cause !== error) return isTransientSqsError(e.cause);
  return (
    status === undefined &&
    typeof e.message === 'string' &&
    /socket hang up|ECONNRESET|ECONNREFUSED|EPIPE|network/i.test(e.message)
  );
}

/** The queue does not exist (never created, or deleted). */
export function isQueueMissing(error: unknown): boolean {
  return QUEUE_MISSING_NAMES.has(nameOf(error));
}

/** The SNS topic does not exist. */
export function isTopicMissing(error: unknown): boolean {
  return TOPIC_MISSING_NAMES.has(nameOf(error));
}

/** The receipt handle no longer refers to an in-flight message (already deleted, or visibility lapsed). */
export function isReceiptGone(error: unknown): boolean {
  return RECEIPT_GONE_NAMES.has(nameOf(error));
}

/** CreateQueue found a queue of that name with different attributes. */
export function isQueueNameTaken(error: unknown): boolean {
  return QUEUE_EXISTS_NAMES.has(nameOf(error));
}

/** True for the abort the transport itself triggers when it stops a long poll. */
export function isAbort(error: unknown): boolean {
  return nameOf(error) === 'AbortError';
}

/**
 * Wrap any SDK error as an {@link OmnibusError} with `code`, keeping it as `cause`;
 * `retriable` is true for network, throttling and 5xx errors. OmnibusErrors pass through.
 */
export function toOmnibusError(error: unknown, code: ErrorCode, context: string): OmnibusError {
  if (isOmnibusError(error)) return error;
  const e = fields(error);
  const name = nameOf(error) || 'Error';
  const detail = typeof e.message === 'string' && e.message !== '' ? e.message : String(error);
  const hint =
    name === 'CredentialsProviderError'
      ? ' (no AWS credentials found: set accessKeyId/secretAccessKey or configure the SDK default chain)'
      : '';
  return new OmnibusError(code, `${context}: ${name}: ${detail}${hint}`, {
    retriable: isTransientSqsError(error),
    cause: error,
  });
}

/** Shorthand for mapping a failed batch entry (SenderFault / Code / Message) to an error. */
export function batchEntryError(
  entry: {
    readonly Code?: string | undefined;
    readonly Message?: string | undefined;
    readonly SenderFault?: boolean | undefined;
  },
  code: ErrorCode,
  context: string,
): OmnibusError {
  return new OmnibusError(
    code,
    `${context}: ${entry.Code ?? 'Error'}: ${entry.Message ?? 'batch entry failed'}`,
    {
      retriable: entry.SenderFault !== true,
    },
  );
}
