import type { EventDefinition } from '../events/event-definition.js';
import type { MiddlewareContext } from '../handler/handler-context.js';
import { childTraceparent, parseTraceparent, TRACEPARENT_HEADER } from '../instrumentation/traceparent.js';
import type { Logger } from '../logging/logger.js';
import type { MessageEnvelope } from '../message/envelope.js';

/** The fixed facts of one delivery a {@link DeliveryContext} reads from. */
export interface DeliveryFacts {
  readonly envelope: MessageEnvelope;
  readonly deliveryAttempt: number;
  readonly destination: string;
  readonly group: string;
  readonly receivedAt: Date;
}

/**
 * What every attempt of one handler shares (built once per handler and event definition, not
 * per delivery): read through getters, so a context carries one reference instead of four fields.
 */
export interface HandlerFacts {
  readonly event: EventDefinition<unknown>;
  /** `ClassName.methodName`. */
  readonly handler: string;
  readonly maxAttempts: number;
  readonly logger: Logger;
}

/** Set by a handler's filter when the message did not match (the router settles it `filtered`). @internal */
export interface FilterMark {
  filtered: boolean;
}

/** `#abortReason` before any abort (a reason may itself be `undefined`). */
const NOT_ABORTED: unique symbol = Symbol('not aborted');

/**
 * The {@link MiddlewareContext} of one attempt. Pays only for what is read: the delivery's
 * destination, group and `receivedAt` and the handler's facts are read through on access, the
 * `traceparent` (parsed, or generated when the message had none) is computed on first read, and
 * the abort signal's `AbortController` is created on first read of `signal` — an attempt aborted
 * before anyone looked hands out an already-aborted signal with the same reason. One controller
 * per attempt serves both the handler timeout and the bus stop. The router's attempt extends
 * this class (one object per delivery for context and attempt). Internal: the router creates it.
 */
export class DeliveryContext implements MiddlewareContext {
  readonly envelope: MessageEnvelope;
  readonly deliveryAttempt: number;
  payload: unknown;
  /** True when the handler's filter rejected the message. @internal */
  filtered = false;
  readonly #facts: DeliveryFacts;
  readonly #shared: HandlerFacts;
  #traceparent: string | undefined;
  #controller: AbortController | undefined;
  #signal: AbortSignal | undefined;
  #abortReason: unknown = NOT_ABORTED;

  constructor(facts: DeliveryFacts, shared: HandlerFacts, payload: unknown) {
    this.envelope = facts.envelope;
    this.deliveryAttempt = facts.deliveryAttempt;
    this.#facts = facts;
    this.#shared = shared;
    this.payload = payload;
  }

  /** The event definition the envelope's type resolved to. */
  get event(): EventDefinition<unknown> {
    return this.#shared.event;
  }

  /** `ClassName.methodName` of the handler. */
  get handler(): string {
    return this.#shared.handler;
  }

  /** The handler's `retry.maxAttempts`. */
  get maxAttempts(): number {
    return this.#shared.maxAttempts;
  }

  /** The bus logger. */
  get logger(): Logger {
    return this.#shared.logger;
  }

  /** Destination the message was consumed from. */
  get destination(): string {
    return this.#facts.destination;
  }

  /** Consumer group. */
  get group(): string {
    return this.#facts.group;
  }

  /** When the transport received the message (read from the delivery: its `Date` is made only if someone asks). */
  get receivedAt(): Date {
    return this.#facts.receivedAt;
  }

  /** W3C `traceparent` of the incoming message (a new one when it had none or a malformed one). */
  get traceparent(): string {
    if (this.#traceparent === undefined) {
      const incoming = this.envelope.headers[TRACEPARENT_HEADER];
      this.#traceparent =
        incoming !== undefined && parseTraceparent(incoming) !== undefined
          ? incoming
          : childTraceparent(undefined);
    }
    return this.#traceparent;
  }

  /** Aborted when the attempt times out or the bus stops before it finished. Middleware may replace it. */
  get signal(): AbortSignal {
    if (this.#signal !== undefined) return this.#signal;
    this.#controller = new AbortController();
    if (this.#abortReason !== NOT_ABORTED) this.#controller.abort(this.#abortReason);
    this.#signal = this.#controller.signal;
    return this.#signal;
  }

  set signal(signal: AbortSignal) {
    this.#signal = signal;
  }

  /** Abort the attempt's signal with `reason` (first call wins). @internal */
  abortWith(reason: unknown): void {
    if (this.#abortReason !== NOT_ABORTED) return;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }
}
