import type { CodecRegistry } from '../codec/codec-registry.js';
import { isOmnibusError } from '../errors/omnibus-error.js';
import type { EventRegistry } from '../events/event-registry.js';
import type { MiddlewareContext } from '../handler/handler-context.js';
import type { InstrumentationEmitter } from '../instrumentation/instrumentation-emitter.js';
import type { SettlementOutcome, SettlementReason } from '../instrumentation/instrumentation-events.js';
import { childTraceparent, parseTraceparent, TRACEPARENT_HEADER } from '../instrumentation/traceparent.js';
import type { Logger } from '../logging/logger.js';
import type { TransportCapabilities } from '../transport/capabilities.js';
import type { Delivery } from '../transport/delivery.js';
import type { DeliveryReport } from '../hooks/delivery-interceptor.js';
import type { CompiledHandler } from './compile-handler.js';
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

/**
 * Handle one delivery end to end and settle it exactly once. Never rejects: a failing
 * settlement call is logged and emitted as `settlement.failed` (the broker redelivers).
 * Order: unknown type → dead-letter `UNKNOWN_EVENT_TYPE`; no handler in this group → ack
 * (outcome `discarded`, reason `NO_HANDLER`); no codec / undecodable → dead-letter
 * `DECODE_FAILED`; then the handler pipeline (schema failures → dead-letter
 * `VALIDATION_FAILED`) and {@link decideOnFailure} for errors. When `report` is given (delivery
 * interceptors are registered) it is filled with the outcome.
 */
export async function processDelivery(
  delivery: Delivery,
  route: Route,
  deps: DeliveryProcessorDeps,
  report?: DeliveryReport,
): Promise<void> {
  const started = Date.now();
  route.stats.onReceived(started);
  const { envelope } = delivery;
  deps.emitter.emit('message.received', {
    envelope,
    attempt: delivery.deliveryAttempt,
    destination: delivery.destination,
    group: delivery.group,
  });
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
    return settleAs(
      delivery,
      'discarded',
      () => delivery.ack(),
      reason,
      deps,
      started,
      undefined,
      route,
      report,
    );
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
  const incoming = envelope.headers[TRACEPARENT_HEADER];
  const controller = deps.inFlight.start();
  const context: MiddlewareContext = {
    envelope,
    event,
    deliveryAttempt: delivery.deliveryAttempt,
    maxAttempts: options.retry.maxAttempts,
    destination: delivery.destination,
    group: delivery.group,
    receivedAt: delivery.receivedAt,
    handler: handlerName,
    traceparent:
      parseTraceparent(incoming) !== undefined && incoming !== undefined
        ? incoming
        : childTraceparent(undefined),
    signal: controller.signal,
    logger: deps.logger,
    payload,
  };
  let decision: SettlementDecision;
  try {
    await handler.run(context);
    decision = { kind: 'ack' };
  } catch (error) {
    if (report !== undefined) report.error = error;
    deps.emitter.emit('handler.failed', {
      envelope,
      attempt: delivery.deliveryAttempt,
      handler: handlerName,
      error,
      durationMs: Date.now() - started,
    });
    deps.logger.warn('handler failed', {
      handler: handlerName,
      messageId: envelope.id,
      type: envelope.type,
      attempt: delivery.deliveryAttempt,
      error,
      code: isOmnibusError(error) ? error.code : undefined,
    });
    decision = decideOnFailure(error, {
      attempt: delivery.deliveryAttempt,
      retry: options.retry,
      deadLetter: options.deadLetter,
      maxRetryDelayMs: deps.capabilities.maxRetryDelayMs,
      ...(deps.random === undefined ? {} : { random: deps.random }),
    });
  } finally {
    deps.inFlight.finish(controller);
  }
  return settle(delivery, decision, deps, started, handlerName, route, report);
}

function settle(
  delivery: Delivery,
  decision: SettlementDecision,
  deps: DeliveryProcessorDeps,
  started: number,
  handler: string | undefined,
  route: Route,
  report: DeliveryReport | undefined,
): Promise<void> {
  switch (decision.kind) {
    case 'ack':
      return settleAs(
        delivery,
        'acked',
        () => delivery.ack(),
        undefined,
        deps,
        started,
        handler,
        route,
        report,
      );
    case 'retry':
      return settleAs(
        delivery,
        'retried',
        () => delivery.retry(decision.delayMs),
        decision.reason,
        deps,
        started,
        handler,
        route,
        report,
        decision.delayMs,
      );
    case 'dead-letter':
      return settleAs(
        delivery,
        'dead-lettered',
        () => delivery.deadLetter(decision.reason),
        decision.reason,
        deps,
        started,
        handler,
        route,
        report,
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
        () => delivery.ack(),
        decision.reason,
        deps,
        started,
        handler,
        route,
        report,
      );
  }
}

async function settleAs(
  delivery: Delivery,
  outcome: SettlementOutcome,
  action: () => Promise<void>,
  reason: SettlementReason | undefined,
  deps: DeliveryProcessorDeps,
  started: number,
  handler: string | undefined,
  route: Route,
  report: DeliveryReport | undefined,
  delayMs?: number,
): Promise<void> {
  const { envelope } = delivery;
  if (report !== undefined) {
    report.outcome = outcome;
    report.reason = reason;
    report.delayMs = delayMs;
    report.handler = handler;
  }
  try {
    await action();
  } catch (error) {
    route.stats.onSettled(undefined, Date.now());
    deps.logger.error('settlement failed; the broker will redeliver', {
      messageId: envelope.id,
      outcome,
      error,
    });
    deps.emitter.emit('settlement.failed', { envelope, attempt: delivery.deliveryAttempt, outcome, error });
    return;
  }
  route.stats.onSettled(outcome, Date.now());
  if (report !== undefined) report.settled = true;
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
}
