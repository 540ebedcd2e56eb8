import {
  defineEvent,
  ErrorCodes,
  nameProblem,
  OmnibusError,
  type EventDefinition,
  type EventHandlerOptions,
  type MessageEnvelope,
} from '@omnibus/core';
import type { SagaStepContext } from './saga-step-context.js';

/**
 * How an event finds its instance: a payload field holding the correlation id, a header, or a
 * function of the payload and envelope. A missing or empty id dead-letters the message
 * (`SAGA_CORRELATION_MISSING`).
 */
export type SagaCorrelation<T> =
  | (keyof T & string)
  | { readonly header: string }
  | ((payload: T, envelope: MessageEnvelope) => string | undefined);

/**
 * What to do with an event whose instance does not exist: `start` one (from the initial
 * state), `retry` later (redelivered after `missingRetryDelayMs`; dead-lettered with
 * `RETRIES_EXHAUSTED` once the handler's attempts are used up), or `ignore` it (acknowledged,
 * reported as a `saga.ignored` event). Never silent.
 */
export type SagaWhenMissing = 'start' | 'retry' | 'ignore';

/** A step: reads and changes `saga.state`, publishes, schedules, completes or compensates. */
export type SagaStep<S, T> = (saga: SagaStepContext<S>, payload: T) => void | Promise<void>;

/** Options of `on` / `startedBy`. */
export interface SagaEventOptions<T> {
  readonly correlate: SagaCorrelation<T>;
  /** Default: `start` for `startedBy`, `retry` for `on`. */
  readonly whenMissing?: SagaWhenMissing;
}

/** One event a saga handles. */
export interface SagaEventBinding<S> {
  readonly event: EventDefinition<unknown>;
  readonly correlate: SagaCorrelation<unknown>;
  readonly whenMissing: SagaWhenMissing;
  /** Declared with `startedBy`: on an existing instance the event is ignored (`already-started`). */
  readonly starts: boolean;
  readonly step: SagaStep<S, unknown>;
}

/** Options of {@link defineSaga}. */
export interface SagaOptions<S> {
  /** State of a new instance (JSON-serialisable: it is stored). */
  readonly initialState: () => S;
  /** Every event the saga's steps publish or register as compensation (republished by name after a crash). */
  readonly publishes?: readonly EventDefinition<unknown>[];
  /** Consumer group of the saga's subscriptions. Default: the saga name. */
  readonly group?: string;
  /** Options of the generated handlers (concurrency, retry, timeout, dead-letter, middleware). */
  readonly handler?: Omit<EventHandlerOptions, 'group'>;
  /** Delay before an event for a not-yet-existing instance is retried (`whenMissing: 'retry'`). Default 1000 ms. */
  readonly missingRetryDelayMs?: number;
  /** Upper bound of the random delay before a step that lost a version conflict runs again. Default 100 ms. */
  readonly conflictRetryDelayMs?: number;
}

/** Payload of a saga's timeout messages. */
export interface SagaTimeoutPayload {
  readonly sagaId: string;
  readonly token: string;
  readonly name: string;
  readonly data?: unknown;
}

/**
 * A saga: a name, a typed state, the events that start it, the events it reacts to and how each
 * finds its instance, and its timeouts. Built with {@link defineSaga}; immutable (every method
 * returns a new definition). Pass it to a `SagaHost`.
 */
export class SagaDefinition<S> {
  /** The event carrying this saga's timeouts (destination `omnibus.saga.<name>.timeout`, handled by the saga's group). */
  readonly timeoutEvent: EventDefinition<SagaTimeoutPayload>;

  /** @internal Use {@link defineSaga}. */
  constructor(
    readonly name: string,
    readonly options: SagaOptions<S>,
    readonly bindings: readonly SagaEventBinding<S>[] = [],
    readonly timeouts: ReadonlyMap<string, SagaStep<S, unknown>> = new Map(),
  ) {
    this.timeoutEvent = defineEvent<SagaTimeoutPayload>(`omnibus.saga.${name}.timeout`);
  }

  /** The consumer group of the saga's handlers. */
  get group(): string {
    return this.options.group ?? this.name;
  }

  /** Handle `event` and create the instance when none exists (`whenMissing` default `start`). */
  startedBy<T>(
    event: EventDefinition<T>,
    options: SagaEventOptions<T>,
    step: SagaStep<S, T>,
  ): SagaDefinition<S> {
    return this.#with(event, options, step, 'start');
  }

  /** Handle `event` for an existing instance (`whenMissing` default `retry`). */
  on<T>(event: EventDefinition<T>, options: SagaEventOptions<T>, step: SagaStep<S, T>): SagaDefinition<S> {
    return this.#with(event, options, step, 'retry');
  }

  /** The step run when the timeout `name` fires while still armed; `data` is what `schedule` passed. */
  onTimeout(name: string, step: SagaStep<S, unknown>): SagaDefinition<S> {
    if (this.timeouts.has(name))
      throw new OmnibusError(
        ErrorCodes.CONFIGURATION_INVALID,
        `saga "${this.name}" declares timeout "${name}" twice`,
      );
    const timeouts = new Map(this.timeouts);
    timeouts.set(name, step);
    return new SagaDefinition(this.name, this.options, this.bindings, timeouts);
  }

  #with<T>(
    event: EventDefinition<T>,
    options: SagaEventOptions<T>,
    step: SagaStep<S, T>,
    whenMissing: SagaWhenMissing,
  ): SagaDefinition<S> {
    if (this.bindings.some((b) => b.event.name === event.name))
      throw new OmnibusError(
        ErrorCodes.CONFIGURATION_INVALID,
        `saga "${this.name}" handles event "${event.name}" twice; one step per event`,
      );
    const binding: SagaEventBinding<S> = {
      event: event,
      correlate: options.correlate as SagaCorrelation<unknown>,
      whenMissing: options.whenMissing ?? whenMissing,
      starts: whenMissing === 'start',
      step: step as SagaStep<S, unknown>,
    };
    return new SagaDefinition(this.name, this.options, [...this.bindings, binding], this.timeouts);
  }
}

/**
 * Declare a saga. The name is stored with every instance and names the timeout destination:
 * keep it stable (`[A-Za-z0-9._-]`).
 *
 * @example
 * ```ts
 * const Fulfilment = defineSaga('shop.fulfilment', { initialState: () => ({ paid: false }) })
 *   .startedBy(OrderPlaced, { correlate: 'orderId' }, (saga, order) => { … })
 *   .on(PaymentSucceeded, { correlate: 'orderId' }, (saga) => { saga.state.paid = true; });
 * ```
 * @throws OmnibusError `CONFIGURATION_INVALID` for an invalid name.
 */
export function defineSaga<S>(name: string, options: SagaOptions<S>): SagaDefinition<S> {
  const problem = nameProblem('saga name', name);
  if (problem !== undefined) throw new OmnibusError(ErrorCodes.CONFIGURATION_INVALID, problem);
  return new SagaDefinition(name, options);
}
