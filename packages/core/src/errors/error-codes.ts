/** Every error code Omnibus raises. Adapters map SDK errors onto these in one place each. */
export const ErrorCodes = {
  CONFIGURATION_INVALID: 'CONFIGURATION_INVALID',
  TRANSPORT_UNKNOWN: 'TRANSPORT_UNKNOWN',
  CAPABILITY_MISSING: 'CAPABILITY_MISSING',
  HANDLER_INVALID: 'HANDLER_INVALID',
  HANDLER_DUPLICATE: 'HANDLER_DUPLICATE',
  HANDLER_NOT_RESOLVED: 'HANDLER_NOT_RESOLVED',
  EVENT_UNKNOWN: 'EVENT_UNKNOWN',
  CONNECTION_FAILED: 'CONNECTION_FAILED',
  PROVISIONING_FAILED: 'PROVISIONING_FAILED',
  PUBLISH_FAILED: 'PUBLISH_FAILED',
  /**
   * A publish was refused because no consumer group subscribes to its destination (nothing was
   * accepted that no group would receive). Retriable: it succeeds once a group exists.
   */
  NO_SUBSCRIBERS: 'NO_SUBSCRIBERS',
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  DELAY_OUT_OF_RANGE: 'DELAY_OUT_OF_RANGE',
  VALIDATION_FAILED: 'VALIDATION_FAILED',
  /** A public method was called with an argument of the wrong kind (e.g. a string where an event definition belongs). */
  ARGUMENT_INVALID: 'ARGUMENT_INVALID',
  ENCODE_FAILED: 'ENCODE_FAILED',
  DECODE_FAILED: 'DECODE_FAILED',
  SETTLEMENT_FAILED: 'SETTLEMENT_FAILED',
  SUBSCRIBE_FAILED: 'SUBSCRIBE_FAILED',
  HANDLER_TIMEOUT: 'HANDLER_TIMEOUT',
  BUS_CLOSED: 'BUS_CLOSED',
  BUS_NOT_STARTED: 'BUS_NOT_STARTED',
  /** An operation that must run inside the caller's database transaction was called outside one. */
  TRANSACTION_REQUIRED: 'TRANSACTION_REQUIRED',
  /** A store's tables (outbox, inbox) do not exist yet; the message names the migrate command. */
  STORE_NOT_MIGRATED: 'STORE_NOT_MIGRATED',
  /** A store (database) could not be reached or the connection was lost. */
  STORE_UNAVAILABLE: 'STORE_UNAVAILABLE',
  /** A dead-letter store operation failed on the broker (nothing not yet handled was removed). */
  DEAD_LETTER_FAILED: 'DEAD_LETTER_FAILED',
  /** A dead-letter query is malformed (the message lists every problem). */
  DEAD_LETTER_QUERY_INVALID: 'DEAD_LETTER_QUERY_INVALID',
  /** `EventBus.request` got no reply within its `timeoutMs` (no handler answered, or too slowly). */
  REQUEST_TIMEOUT: 'REQUEST_TIMEOUT',
  /** The handler of an `EventBus.request` failed for good; the message carries its error. */
  REQUEST_FAILED: 'REQUEST_FAILED',
  /** The broker could not report a group's backlog (unreachable, or the group is not provisioned). */
  BACKLOG_UNAVAILABLE: 'BACKLOG_UNAVAILABLE',
} as const;

/** Union of {@link ErrorCodes} values. */
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];
