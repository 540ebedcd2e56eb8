import type { EventDefinition } from '../events/event-definition.js';
import type { Logger } from '../logging/logger.js';
import type { MessageEnvelope } from '../message/envelope.js';

/**
 * What a handler knows about the delivery it is handling. Passed as the handler's second
 * argument and available anywhere below it through {@link currentHandlerContext}
 * (AsyncLocalStorage), which is how `EventBus.publish` stamps correlation, causation and
 * trace context. Read-only for handlers.
 */
export interface HandlerContext {
  /** The received envelope (payload still encoded). */
  readonly envelope: MessageEnvelope;
  /** The event definition the envelope's type resolved to. */
  readonly event: EventDefinition<unknown>;
  /** 1-based attempt number of this delivery. */
  readonly deliveryAttempt: number;
  /** The handler's `retry.maxAttempts`; `deliveryAttempt === maxAttempts` is the last try. */
  readonly maxAttempts: number;
  /** Destination the message was consumed from. */
  readonly destination: string;
  /** Consumer group. */
  readonly group: string;
  /** When this attempt was received. */
  readonly receivedAt: Date;
  /** `ClassName.methodName` of the handler. */
  readonly handler: string;
  /** W3C `traceparent` of the incoming message (generated when it had none). */
  readonly traceparent: string;
  /** Aborted when the handler times out or the bus stops before the handler finished. */
  readonly signal: AbortSignal;
  /** The bus logger. */
  readonly logger: Logger;
}

/**
 * The context middleware sees: the {@link HandlerContext} plus the decoded `payload`
 * (middleware may replace it, e.g. with a schema's output) and a replaceable `signal`
 * (middleware may narrow it, e.g. the timeout middleware). The same object is later passed
 * to the handler.
 */
export interface MiddlewareContext extends HandlerContext {
  /** Decoded payload handed to the handler. */
  payload: unknown;
  /** Abort signal handed to the handler. */
  signal: AbortSignal;
}
