import type { EventDefinition } from '../events/event-definition.js';
import type { MiddlewareContext } from '../handler/handler-context.js';
import { childTraceparent, parseTraceparent, TRACEPARENT_HEADER } from '../instrumentation/traceparent.js';
import type { Logger } from '../logging/logger.js';
import type { MessageEnvelope } from '../message/envelope.js';

/** The fixed facts a {@link DeliveryContext} is built from. */
export interface DeliveryFacts {
  readonly envelope: MessageEnvelope;
  readonly deliveryAttempt: number;
  readonly destination: string;
  readonly group: string;
  readonly receivedAt: Date;
}

/** Set by a handler's filter when the message did not match (the router settles it `filtered`). @internal */
export interface FilterMark {
  filtered: boolean;
}

/**
 * The {@link MiddlewareContext} of one attempt. Pays only for what is read: `receivedAt` comes
 * from the delivery when read, the `traceparent`
 * (parsed, or generated when the message had none) is computed on first read, and the abort
 * signal's `AbortController` is created on first read of `signal` — an attempt aborted before
 * anyone looked hands out an already-aborted signal with the same reason. One controller per
 * attempt serves both the handler timeout and the bus stop. Internal: the router creates it.
 */
export class DeliveryContext implements MiddlewareContext {
  readonly envelope: MessageEnvelope;
  readonly event: EventDefinition<unknown>;
  readonly deliveryAttempt: number;
  readonly maxAttempts: number;
  readonly destination: string;
  readonly group: string;
  readonly handler: string;
  readonly logger: Logger;
  payload: unknown;
  /** True when the handler's filter rejected the message. @internal */
  filtered = false;
  readonly #facts: DeliveryFacts;
  #traceparent: string | undefined;
  #controller: AbortController | undefined;
  #signal: AbortSignal | undefined;
  #aborted = false;
  #abortReason: unknown;

  constructor(
    facts: DeliveryFacts,
    event: EventDefinition<unknown>,
    handler: string,
    maxAttempts: number,
    logger: Logger,
    payload: unknown,
  ) {
    this.envelope = facts.envelope;
    this.deliveryAttempt = facts.deliveryAttempt;
    this.destination = facts.destination;
    this.group = facts.group;
    this.#facts = facts;
    this.event = event;
    this.handler = handler;
    this.maxAttempts = maxAttempts;
    this.logger = logger;
    this.payload = payload;
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
    if (this.#aborted) this.#controller.abort(this.#abortReason);
    this.#signal = this.#controller.signal;
    return this.#signal;
  }

  set signal(signal: AbortSignal) {
    this.#signal = signal;
  }

  /** Abort the attempt's signal with `reason` (first call wins). @internal */
  abortWith(reason: unknown): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#abortReason = reason;
    this.#controller?.abort(reason);
  }
}
