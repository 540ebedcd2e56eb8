import type { EventDefinition, HandlerContext, MessageHeaders } from '@omnibus/core';

/** Options of a message published by a saga step. */
export interface SagaPublishOptions {
  /** Ordering/sharding key. */
  readonly partitionKey?: string;
  /** Custom headers (reserved names are rejected at publish). */
  readonly headers?: MessageHeaders;
  /** Deliver no sooner than this many ms after the step committed (needs delayed delivery). */
  readonly delayMs?: number;
  /** Default: the incoming message's correlation id (or its id). */
  readonly correlationId?: string;
}

/**
 * What a saga step sees and can do. Everything a step does is recorded and takes effect only
 * when the step commits (after the handler returned, with the new state, atomically with the
 * version check): a step that throws, or loses a version conflict, changes nothing and
 * publishes nothing. Not safe to keep after the step returned.
 */
export interface SagaStepContext<S> {
  /** The instance's state: mutate it, or assign a new value. A copy: the stored one changes only on commit. */
  state: S;
  /** Saga name. */
  readonly saga: string;
  /** Correlation id of the instance. */
  readonly id: string;
  /** Version before this step (`0`: the step creates the instance). */
  readonly version: number;
  /** The delivery being handled (envelope, attempt, signal, logger). */
  readonly message: HandlerContext;
  /** Publish `payload` when the step commits. The event must be listed in the saga's `publishes`. */
  publish<T>(event: EventDefinition<T>, payload: T, options?: SagaPublishOptions): void;
  /**
   * Arm the timeout `name` (declared with `onTimeout(name, …)`) to fire after `delayMs`,
   * through the transport's delayed delivery. Re-arming a name replaces the previous one (its
   * message is ignored when it arrives); completing or compensating disarms all.
   */
  schedule(name: string, delayMs: number, data?: unknown): void;
  /** Disarm the timeout `name` (its message, if already sent, is ignored on arrival). */
  cancelTimeout(name: string): void;
  /** Register a compensating message, published (last registered first) if the saga later compensates. */
  addCompensation<T>(event: EventDefinition<T>, payload: T, options?: SagaPublishOptions): void;
  /** End the instance as `completed` when the step commits. */
  complete(reason?: string): void;
  /** Publish every registered compensation (last first) and end the instance as `compensated`. */
  compensate(reason?: string): void;
}
