/**
 * A failure the emulator reports to the client: an AMQP error condition (the one Service Bus uses,
 * so that `@azure/service-bus` maps it to the same `ServiceBusError.code`) and a management status
 * code.
 */
export class BrokerError extends Error {
  constructor(
    readonly condition: string,
    message: string,
    readonly statusCode: number,
  ) {
    super(message);
    this.name = 'BrokerError';
  }
}

/** Condition names Service Bus uses (see core-amqp `ConditionErrorNameMapper`). */
export const Conditions = {
  notFound: 'amqp:not-found',
  lockLost: 'com.microsoft:message-lock-lost',
  sessionLockLost: 'com.microsoft:session-lock-lost',
  sessionCannotBeLocked: 'com.microsoft:session-cannot-be-locked',
  messageNotFound: 'com.microsoft:message-not-found',
  notAllowed: 'amqp:not-allowed',
  argumentError: 'com.microsoft:argument-error',
  notImplemented: 'amqp:not-implemented',
  timeout: 'com.microsoft:timeout',
  internal: 'amqp:internal-error',
  deadLetter: 'com.microsoft:dead-letter',
} as const;

/**
 * The entity does not exist. The SDK turns `amqp:not-found` into `MessagingEntityNotFound` only
 * when the description matches "The messaging entity ... could not be found", as Service Bus
 * words it.
 */
export function entityNotFound(path: string): BrokerError {
  return new BrokerError(
    Conditions.notFound,
    `The messaging entity '${path}' could not be found. To know more visit https://aka.ms/sbResourceMgrExceptions.`,
    404,
  );
}

/** The lock token is unknown or its lock expired. */
export function lockLost(): BrokerError {
  return new BrokerError(
    Conditions.lockLost,
    'The lock supplied is invalid. Either the lock expired, or the message has already been removed from the queue.',
    410,
  );
}

/** The session lock is held by no one (any more), or by another receiver. */
export function sessionLockLost(sessionId: string): BrokerError {
  return new BrokerError(
    Conditions.sessionLockLost,
    `The session lock has expired on the session with id ${sessionId}.`,
    410,
  );
}

/** No message with that sequence number. */
export function messageNotFound(seq: number | string): BrokerError {
  return new BrokerError(
    Conditions.messageNotFound,
    `Failed to lock one or more specified messages. The message with sequence number ${seq} was not found.`,
    404,
  );
}

/** An operation the entity does not allow (e.g. sending to a subscription). */
export function notAllowed(message: string): BrokerError {
  return new BrokerError(Conditions.notAllowed, message, 400);
}

/** A malformed request. */
export function badRequest(message: string): BrokerError {
  return new BrokerError(Conditions.argumentError, message, 400);
}

/** Converts anything thrown into a BrokerError (internal error when unknown). */
export function toBrokerError(error: unknown): BrokerError {
  if (error instanceof BrokerError) return error;
  return new BrokerError(Conditions.internal, error instanceof Error ? error.message : String(error), 500);
}
