import { ErrorCodes, OmnibusError, isOmnibusError } from '@omnibus/core';
import type { ErrorCode } from '@omnibus/core';

/** What the adapter was doing when a client error happened. */
export type KafkaOperation = 'connect' | 'provision' | 'publish' | 'subscribe' | 'settle';

const DEFAULT_CODES: Readonly<Record<KafkaOperation, ErrorCode>> = {
  connect: ErrorCodes.CONNECTION_FAILED,
  provision: ErrorCodes.PROVISIONING_FAILED,
  publish: ErrorCodes.PUBLISH_FAILED,
  subscribe: ErrorCodes.SUBSCRIBE_FAILED,
  settle: ErrorCodes.SETTLEMENT_FAILED,
};

/** Broker error types meaning "too big", whatever the operation. */
const TOO_LARGE = new Set(['MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE']);

/** Broker error types that retrying cannot fix (credentials, permissions, bad requests). */
const PERMANENT = new Set([
  'SASL_AUTHENTICATION_FAILED',
  'ILLEGAL_SASL_STATE',
  'UNSUPPORTED_SASL_MECHANISM',
  'TOPIC_AUTHORIZATION_FAILED',
  'GROUP_AUTHORIZATION_FAILED',
  'CLUSTER_AUTHORIZATION_FAILED',
  'TRANSACTIONAL_ID_AUTHORIZATION_FAILED',
  'INVALID_TOPIC_EXCEPTION',
  'INVALID_REPLICATION_FACTOR',
  'INVALID_PARTITIONS',
  'POLICY_VIOLATION',
  'UNSUPPORTED_VERSION',
]);

/** Client error names meaning the broker could not be reached or the connection broke. */
const CONNECTIVITY = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSBrokerNotFound',
  'KafkaJSNoBrokerAvailableError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSLockTimeout',
]);

interface ErrorShape {
  readonly name?: unknown;
  readonly type?: unknown;
  readonly retriable?: unknown;
  readonly message?: unknown;
  readonly cause?: unknown;
  readonly originalError?: unknown;
}

/**
 * Map any error thrown by the Kafka client into an {@link OmnibusError}; the one place where
 * client errors are interpreted. Works on error shape only (never imports the client).
 * Idempotent: an OmnibusError passes through unchanged. The message names the operation and the
 * subject (topic or group), never credentials.
 */
export function mapKafkaError(error: unknown, operation: KafkaOperation, subject?: string): OmnibusError {
  if (isOmnibusError(error)) return error;
  const chain = causeChain(error);
  const types = chain.map((e) => (typeof e.type === 'string' ? e.type : '')).filter((t) => t !== '');
  const names = chain.map((e) => (typeof e.name === 'string' ? e.name : ''));
  const detail = describe(chain);
  const where = subject === undefined ? '' : ` (${subject})`;
  if (types.some((t) => TOO_LARGE.has(t))) {
    return new OmnibusError(
      ErrorCodes.PAYLOAD_TOO_LARGE,
      `Kafka rejected the message as too large${where}: ${detail}`,
      {
        cause: error,
      },
    );
  }
  const permanent = types.some((t) => PERMANENT.has(t));
  const connectivity = names.some((n) => CONNECTIVITY.has(n));
  const retriable = !permanent && (connectivity || chain.some((e) => e.retriable === true));
  const code =
    operation === 'connect' || (connectivity && operation === 'subscribe')
      ? ErrorCodes.CONNECTION_FAILED
      : DEFAULT_CODES[operation];
  return new OmnibusError(code, `Kafka ${operation} failed${where}: ${detail}`, { retriable, cause: error });
}

function causeChain(error: unknown): ErrorShape[] {
  const chain: ErrorShape[] = [];
  let current: unknown = error;
  while (typeof current === 'object' && current !== null && chain.length < 8) {
    const shape = current as ErrorShape;
    chain.push(shape);
    current = shape.cause ?? shape.originalError;
  }
  if (chain.length === 0) chain.push({ message: String(error) });
  return chain;
}

function describe(chain: readonly ErrorShape[]): string {
  const parts: string[] = [];
  for (const e of chain) {
    const text = typeof e.message === 'string' ? e.message : '';
    if (text !== '' && !parts.includes(text)) parts.push(text);
  }
  return parts.length === 0 ? 'unknown error' : parts.join(': ');
}
