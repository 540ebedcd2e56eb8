import type { SettlementOutcome, SettlementReason } from '../instrumentation/instrumentation-events.js';
import type { Delivery } from '../transport/delivery.js';

/** The subscription a delivery belongs to, as seen by a {@link DeliveryInterceptor}. One object per subscription. */
export interface SubscriptionInfo {
  /** Name of the transport (`in-memory`, `kafka`, …). */
  readonly transport: string;
  readonly destination: string;
  readonly group: string;
  readonly concurrency: number;
  readonly ordered: boolean;
}

/**
 * How one delivery attempt ended, filled in by the router while `next()` runs. `settled` is
 * false when the settlement call itself failed (the broker redelivers); `outcome` is then the
 * settlement that was attempted.
 */
export interface DeliveryReport {
  outcome: SettlementOutcome | undefined;
  settled: boolean;
  /** Why, for every outcome except `acked`. */
  reason: SettlementReason | undefined;
  /** Redelivery delay, for `retried`. */
  delayMs: number | undefined;
  /** `Class.method` of the handler, when one was selected. */
  handler: string | undefined;
  /** What the handler (or its middleware) threw, when it failed. */
  error: unknown;
}

/**
 * Wraps the processing of every delivery attempt, settlement included: the router calls it for
 * each delivery of each subscription, and `next()` decodes, runs the handler pipeline and
 * settles, then resolves with the {@link DeliveryReport}. Whatever async context the
 * interceptor sets up around `next()` (AsyncLocalStorage, an OpenTelemetry context) is active
 * in the handler and in publishes made from it. Call `next()` exactly once and return its
 * report; an interceptor that throws is logged and the delivery still runs. First interceptor
 * is outermost. Runs concurrently, up to each subscription's concurrency.
 */
export type DeliveryInterceptor = (
  delivery: Delivery,
  next: () => Promise<DeliveryReport>,
  subscription: SubscriptionInfo,
) => Promise<DeliveryReport>;

/** A fresh, empty report (the router fills it). */
export function emptyDeliveryReport(): DeliveryReport {
  return {
    outcome: undefined,
    settled: false,
    reason: undefined,
    delayMs: undefined,
    handler: undefined,
    error: undefined,
  };
}

/**
 * Run `run` (the router's processing) through `interceptors`, first outermost. An interceptor
 * that throws before calling `next()` is reported to `onError` and the delivery runs anyway; one
 * that throws after is reported and its error dropped. Never rejects because of an interceptor.
 */
export function runDeliveryInterceptors(
  interceptors: readonly DeliveryInterceptor[],
  delivery: Delivery,
  subscription: SubscriptionInfo,
  run: (report: DeliveryReport) => Promise<void>,
  onError: (error: unknown) => void,
): Promise<DeliveryReport> {
  const report = emptyDeliveryReport();
  const dispatch = async (index: number): Promise<DeliveryReport> => {
    const current = interceptors[index];
    if (current === undefined) {
      await run(report);
      return report;
    }
    let called: Promise<DeliveryReport> | undefined;
    const next = (): Promise<DeliveryReport> => (called ??= dispatch(index + 1));
    try {
      await current(delivery, next, subscription);
    } catch (error) {
      onError(error);
    }
    return called ?? next();
  };
  return dispatch(0);
}
