import type { CodecRegistry } from '../codec/codec-registry.js';
import { ErrorCodes } from '../errors/error-codes.js';
import { isOmnibusError, OmnibusError } from '../errors/omnibus-error.js';
import type { EventRegistry } from '../events/event-registry.js';
import type { InstrumentationEmitter } from '../instrumentation/instrumentation-emitter.js';
import type { SettlementOutcome, SettlementReason } from '../instrumentation/instrumentation-events.js';
import type { Logger } from '../logging/logger.js';
import type { TransportCapabilities } from '../transport/capabilities.js';
import type { Delivery } from '../transport/delivery.js';
import type { DeliveryReport } from '../hooks/delivery-interceptor.js';
import { FILTERED } from '../handler/handler-filter.js';
import type { CompiledHandler } from './compile-handler.js';
import type { Expirable } from './deadline-queue.js';
import { DeliveryContext, type HandlerFacts } from './delivery-context.js';
import { SETTLED_SYNC } from '../transport/settled-sync.js';
import type { InFlightTracker } from './in-flight-tracker.js';
import { decideOnFailure, terminal, type SettlementDecision } from './settlement-decision.js';
import type { SubscriptionStats } from './subscription-stats.js';

/** Reason codes the router dead-letters with before a handler runs. */
export const UNKNOWN_EVENT_TYPE = 'UNKNOWN_EVENT_TYPE';
/** Reason code of a known type that no handler of the group handles (acked, outcome `discarded`). */
export const NO_HANDLER = 'NO_HANDLER';

/** One subscription's routing table: handlers by event type. */
export interface Route {
  readonly destination: string;
  readonly group: string;
  readonly handlers: ReadonlyMap<string, CompiledHandler>;
  /** Dead-letter undecodable/unknown messages (true when any handler of the route does). */
  readonly deadLetter: boolean;
  /** Live counters of the subscription (health). */
  readonly stats: SubscriptionStats;
}

/** What {@link processDelivery} needs from the bus. */
export interface DeliveryProcessorDeps {
  readonly events: EventRegistry;
  readonly codecs: CodecRegistry;
  readonly emitter: InstrumentationEmitter;
  readonly logger: Logger;
  readonly capabilities: TransportCapabilities;
  /** Running attempts (aborted when the bus stops). */
  readonly inFlight: InFlightTracker;
  readonly random?: () => number;
}

const ACK: SettlementDecision = Object.freeze({ kind: 'ack' });
const RESOLVED: Promise<void> = Promise.resolve();

/**
 * Handle one delivery end to end and settle it exactly once. Never rejects: a failing
 * settlement call is logged and emitted as `settlement.failed` (the broker redelivers).
 * Order: unknown type → dead-letter `UNKNOWN_EVENT_TYPE`; no handler in this group → ack
 * (outcome `discarded`, reason `NO_HANDLER`); no codec / undecodable → dead-letter
 * `DECODE_FAILED`; then the handler pipeline (schema failures → dead-letter
 * `VALIDATION_FAILED`) and {@link decideOnFailure} for errors. When `report` is given (delivery
 * interceptors are registered) it is filled with the outcome.
 *
 * Cost: one promise for the whole delivery (settled by whichever comes first: the pipeline,
 * the handler timeout or the bus stop), one context object, no per-attempt timer (the
 * handler's {@link DeadlineQueue} shares one), and instrumentation payloads are built only
 * when someone listens.
 */
export function processDelivery(
  delivery: Delivery,
  route: Route,
  deps: DeliveryProcessorDeps,
  report?: DeliveryReport,
): Promise<void> {
  const started = Date.now();
  route.stats.onReceived(started);
  const { envelope } = delivery;
  if (deps.emitter.listenerCount('message.received') > 0) {
    deps.emitter.emit('message.received', {
      envelope,
      attempt: delivery.deliveryAttempt,
      destination: delivery.destination,
      group: delivery.group,
    });
  }
  const event = deps.events.get(envelope.type);
  if (event === undefined) {
    const what =
      envelope.type === ''
        ? 'message has no event type (foreign message?)'
        : `unknown event type "${envelope.type}"`;
    return settle(
      delivery,
      terminal(UNKNOWN_EVENT_TYPE, what, { attempt: delivery.deliveryAttempt, deadLetter: route.deadLetter }),
      deps,
      started,
      undefined,
      route,
      report,
    );
  }
  const handler = route.handlers.get(envelope.type);
  if (handler === undefined) {
    const reason: SettlementReason = {
      code: NO_HANDLER,
      message: `group "${route.group}" has no handler for "${envelope.type}"`,
    };
    return settleAs(delivery, 'discarded', ACK, reason, deps, started, undefined, route, report);
  }
  const { options, handlerName } = handler.registration;
  const codec = deps.codecs.get(envelope.contentType);
  let payload: unknown;
  try {
    if (codec === undefined) throw new Error(`no codec for content type "${envelope.contentType}"`);
    payload = codec.decode(envelope.payload);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return settle(
      delivery,
      terminal('DECODE_FAILED', message, {
        attempt: delivery.deliveryAttempt,
        deadLetter: options.deadLetter,
      }),
      deps,
      started,
      handlerName,
      route,
      report,
    );
  }
  let shared = handler.shared;
  if (shared === undefined || shared.event !== event || shared.logger !== deps.logger) {
    shared = { event, handler: handlerName, maxAttempts: options.retry.maxAttempts, logger: deps.logger };
    handler.shared = shared;
  }
  return new Attempt(delivery, shared, payload, route, handler, deps, started, report).start();
}

/**
 * One running attempt, which is also its handler's context (one object per delivery): finishes
 * exactly once, when the pipeline settles, its deadline passes (`HANDLER_TIMEOUT`, retriable) or
 * the bus stops (the abort reason), then settles the delivery. A pipeline that finishes after a
 * timeout or stop is ignored (its rejection is handled).
 */
class Attempt extends DeliveryContext implements Expirable {
  readonly expiresAt: number;
  finished = false;
  readonly #delivery: Delivery;
  readonly #route: Route;
  readonly #report: DeliveryReport | undefined;
  readonly #handler: CompiledHandler;
  readonly #deps: DeliveryProcessorDeps;
  readonly #started: number;
  /** Resolves the promise {@link start} returned for an attempt that outlived its synchronous part. */
  #resolve: (() => void) | undefined;
  /** True while it is in the in-flight tracker and the deadline queue. */
  #tracked = false;

  constructor(
    delivery: Delivery,
    shared: HandlerFacts,
    payload: unknown,
    route: Route,
    handler: CompiledHandler,
    deps: DeliveryProcessorDeps,
    started: number,
    report: DeliveryReport | undefined,
  ) {
    super(delivery, shared, payload);
    this.#delivery = delivery;
    this.#route = route;
    this.#report = report;
    this.#handler = handler;
    this.#deps = deps;
    this.#started = started;
    this.expiresAt = handler.deadlines.deadlineFromNow();
  }

  /**
   * Run the pipeline; the promise resolves once the delivery is settled. A pipeline that
   * completes (or throws) synchronously is settled at once: it can neither time out nor be
   * given up at stop, so it is never tracked and no promise of its own is made. Only an attempt
   * still running after its synchronous part joins the in-flight tracker and its handler's
   * deadline queue (its deadline counts from before the pipeline started).
   */
  start(): Promise<void> {
    let running: Promise<void> | void;
    try {
      running = this.#handler.run(this);
    } catch (error) {
      return this.#finish(error, true);
    }
    if (running === undefined) return this.#finish(undefined, false);
    const pending = running;
    this.#tracked = true;
    this.#deps.inFlight.add(this);
    this.#handler.deadlines.add(this);
    return new Promise<void>((resolve) => {
      this.#resolve = resolve;
      pending.then(
        () => void this.#finish(undefined, false),
        (error: unknown) => void this.#finish(error, true),
      );
    });
  }

  /** The handler timeout passed. */
  expire(): void {
    const { handlerName, options } = this.#handler.registration;
    const error = new OmnibusError(
      ErrorCodes.HANDLER_TIMEOUT,
      `handler ${handlerName} did not finish within ${String(options.timeoutMs)} ms`,
      { retriable: true },
    );
    this.abortWith(error);
    void this.#finish(error, true);
  }

  /** The bus is stopping and its drain deadline passed: give up with `reason`. */
  abort(reason: unknown): void {
    if (this.finished) return;
    this.abortWith(reason);
    void this.#finish(reason instanceof Error ? reason : new Error(String(reason)), true);
  }

  /** Settle once (later calls: nothing); resolves when the settlement call finished. */
  #finish(error: unknown, failed: boolean): Promise<void> {
    if (this.finished) return RESOLVED;
    this.finished = true;
    const deps = this.#deps;
    if (this.#tracked) {
      deps.inFlight.delete(this);
      this.#handler.deadlines.prune();
    }
    const handlerName = this.#handler.registration.handlerName;
    if (!failed && this.filtered) {
      return settleAs(
        this.#delivery,
        'filtered',
        ACK,
        { code: FILTERED, message: `filter of ${handlerName} did not match` },
        deps,
        this.#started,
        handlerName,
        this.#route,
        this.#report,
        undefined,
        this.#resolve,
      );
    }
    let decision = ACK;
    if (failed) decision = this.#failed(error, handlerName);
    return settle(
      this.#delivery,
      decision,
      deps,
      this.#started,
      handlerName,
      this.#route,
      this.#report,
      this.#resolve,
    );
  }

  #failed(error: unknown, handlerName: string): SettlementDecision {
    const deps = this.#deps;
    const delivery = this.#delivery;
    const { envelope } = delivery;
    if (this.#report !== undefined) this.#report.error = error;
    if (deps.emitter.listenerCount('handler.failed') > 0) {
      deps.emitter.emit('handler.failed', {
        envelope,
        attempt: delivery.deliveryAttempt,
        handler: handlerName,
        error,
        durationMs: Date.now() - this.#started,
      });
    }
    deps.logger.warn('handler failed', {
      handler: handlerName,
      messageId: envelope.id,
      type: envelope.type,
      attempt: delivery.deliveryAttempt,
      error,
      code: isOmnibusError(error) ? error.code : undefined,
    });
    const { options } = this.#handler.registration;
    return decideOnFailure(error, {
      attempt: delivery.deliveryAttempt,
      retry: options.retry,
      deadLetter: options.deadLetter,
      maxRetryDelayMs: deps.capabilities.maxRetryDelayMs,
      ...(deps.random === undefined ? {} : { random: deps.random }),
    });
  }
}

/**
 * Settle `delivery` as `decision` says. `done` (when given) is called once the settlement call
 * finished either way, after the counters and instrumentation (no extra promise per delivery).
 */
function settle(
  delivery: Delivery,
  decision: SettlementDecision,
  deps: DeliveryProcessorDeps,
  started: number,
  handler: string | undefined,
  route: Route,
  report: DeliveryReport | undefined,
  done?: () => void,
): Promise<void> {
  switch (decision.kind) {
    case 'ack':
      return settleAs(
        delivery,
        'acked',
        decision,
        undefined,
        deps,
        started,
        handler,
        route,
        report,
        undefined,
        done,
      );
    case 'retry':
      return settleAs(
        delivery,
        'retried',
        decision,
        decision.reason,
        deps,
        started,
        handler,
        route,
        report,
        decision.delayMs,
        done,
      );
    case 'dead-letter':
      return settleAs(
        delivery,
        'dead-lettered',
        decision,
        decision.reason,
        deps,
        started,
        handler,
        route,
        report,
        undefined,
        done,
      );
    case 'discard':
      deps.logger.warn('message discarded (dead-lettering disabled)', {
        messageId: delivery.envelope.id,
        type: delivery.envelope.type,
        group: delivery.group,
        code: decision.reason.code,
        reason: decision.reason.message,
      });
      return settleAs(
        delivery,
        'discarded',
        ACK,
        decision.reason,
        deps,
        started,
        handler,
        route,
        report,
        undefined,
        done,
      );
  }
}

/** Call the delivery's settlement method for `decision` (`discard` acks); a synchronous throw becomes a rejection. */
function callSettlement(delivery: Delivery, decision: SettlementDecision): Promise<void> {
  try {
    switch (decision.kind) {
      case 'retry':
        return delivery.retry(decision.delayMs);
      case 'dead-letter':
        return delivery.deadLetter(decision.reason);
      case 'ack':
      case 'discard':
        return delivery.ack();
    }
  } catch (error) {
    return Promise.reject(error instanceof Error ? error : new Error(String(error)));
  }
}

/**
 * Run the settlement call; never rejects (a failure is logged and emitted as
 * `settlement.failed`). `done` runs last, in both cases, even if a logger throws.
 */
function settleAs(
  delivery: Delivery,
  outcome: SettlementOutcome,
  decision: SettlementDecision,
  reason: SettlementReason | undefined,
  deps: DeliveryProcessorDeps,
  started: number,
  handler: string | undefined,
  route: Route,
  report: DeliveryReport | undefined,
  delayMs?: number,
  done?: () => void,
): Promise<void> {
  if (report !== undefined) {
    report.outcome = outcome;
    report.reason = reason;
    report.delayMs = delayMs;
    report.handler = handler;
  }
  const call = callSettlement(delivery, decision);
  if (call === SETTLED_SYNC) {
    // The transport settled synchronously: carry on now (no `.then`, no microtask).
    try {
      settled(delivery, outcome, reason, deps, started, handler, route, report, delayMs, done);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return SETTLED_SYNC;
  }
  return call.then(
    () => settled(delivery, outcome, reason, deps, started, handler, route, report, delayMs, done),
    (error: unknown) => {
      try {
        route.stats.onSettled(undefined);
        const { envelope } = delivery;
        deps.logger.error('settlement failed; the broker will redeliver', {
          messageId: envelope.id,
          outcome,
          error,
        });
        deps.emitter.emit('settlement.failed', {
          envelope,
          attempt: delivery.deliveryAttempt,
          outcome,
          error,
        });
      } finally {
        done?.();
      }
    },
  );
}

/** After a successful settlement call: counters, `message.settled` (when someone listens), then `done`. */
function settled(
  delivery: Delivery,
  outcome: SettlementOutcome,
  reason: SettlementReason | undefined,
  deps: DeliveryProcessorDeps,
  started: number,
  handler: string | undefined,
  route: Route,
  report: DeliveryReport | undefined,
  delayMs: number | undefined,
  done: (() => void) | undefined,
): void {
  try {
    route.stats.onSettled(outcome);
    if (report !== undefined) report.settled = true;
    if (deps.emitter.listenerCount('message.settled') === 0) return;
    const { envelope } = delivery;
    deps.emitter.emit('message.settled', {
      outcome,
      envelope,
      attempt: delivery.deliveryAttempt,
      destination: delivery.destination,
      group: delivery.group,
      durationMs: Date.now() - started,
      ...(handler === undefined ? {} : { handler }),
      ...(delayMs === undefined ? {} : { delayMs }),
      ...(reason === undefined ? {} : { reason: { code: reason.code, message: reason.message } }),
    });
  } finally {
    done?.();
  }
}
