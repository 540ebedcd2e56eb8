// The e-commerce fulfilment flow as a saga, shared by the demo, the transport runs and the ledger:
// order placed → payment requested → payment succeeded → shipment requested → dispatched (completed);
// payment timeout → order cancelled and stock released (compensated).
import {
  defineEvent,
  EventHandler,
  type EventDefinition,
  type EventHandlerOptions,
  type HandlerContext,
  type HandlerMiddleware,
} from '@omnibus/core';
import { defineSaga, type SagaDefinition } from '@omnibus/saga';

export interface FulfilmentEvents {
  readonly OrderPlaced: EventDefinition<{ orderId: string; amountCents: number }>;
  readonly PaymentRequested: EventDefinition<{ orderId: string; amountCents: number }>;
  readonly PaymentSucceeded: EventDefinition<{ orderId: string; paymentId: string }>;
  readonly ShipmentRequested: EventDefinition<{ orderId: string }>;
  readonly ShipmentDispatched: EventDefinition<{ orderId: string; trackingNumber: string }>;
  readonly OrderCancelled: EventDefinition<{ orderId: string; reason: string }>;
  readonly StockReleased: EventDefinition<{ orderId: string }>;
}

/** The flow's events, with names unique to `prefix` (each test run gets its own destinations). */
export function fulfilmentEvents(prefix: string): FulfilmentEvents {
  return {
    OrderPlaced: defineEvent(`${prefix}.order-placed`),
    PaymentRequested: defineEvent(`${prefix}.payment-requested`),
    PaymentSucceeded: defineEvent(`${prefix}.payment-succeeded`),
    ShipmentRequested: defineEvent(`${prefix}.shipment-requested`),
    ShipmentDispatched: defineEvent(`${prefix}.shipment-dispatched`),
    OrderCancelled: defineEvent(`${prefix}.order-cancelled`),
    StockReleased: defineEvent(`${prefix}.stock-released`),
  };
}

export interface FulfilmentState {
  status: 'awaiting-payment' | 'awaiting-shipment' | 'shipped' | 'cancelled';
  amountCents: number;
  /** Every step applied, in order (a step applied twice would show here). */
  steps: string[];
  paymentId?: string;
  trackingNumber?: string;
}

/** The saga; `paymentTimeoutMs` bounds the wait for the payment. */
export function fulfilmentSaga(
  name: string,
  e: FulfilmentEvents,
  paymentTimeoutMs: number,
  handler: { concurrency?: number } = {},
): SagaDefinition<FulfilmentState> {
  return defineSaga(name, {
    initialState: (): FulfilmentState => ({ status: 'awaiting-payment', amountCents: 0, steps: [] }),
    publishes: [e.PaymentRequested, e.ShipmentRequested, e.OrderCancelled, e.StockReleased],
    handler: {
      concurrency: handler.concurrency ?? 4,
      retry: { maxAttempts: 50, initialDelayMs: 50, maxDelayMs: 1000 },
    },
    missingRetryDelayMs: 200,
  })
    .startedBy(e.OrderPlaced, { correlate: 'orderId' }, (saga, order) => {
      saga.state.steps.push('placed');
      saga.state.amountCents = order.amountCents;
      saga.publish(e.PaymentRequested, { orderId: order.orderId, amountCents: order.amountCents });
      saga.addCompensation(e.StockReleased, { orderId: order.orderId });
      saga.addCompensation(e.OrderCancelled, { orderId: order.orderId, reason: 'payment timed out' });
      saga.schedule('payment', paymentTimeoutMs);
    })
    .on(e.PaymentSucceeded, { correlate: 'orderId' }, (saga, payment) => {
      if (saga.state.status !== 'awaiting-payment') return; // a repeated payment changes nothing
      saga.state.steps.push('paid');
      saga.state.status = 'awaiting-shipment';
      saga.state.paymentId = payment.paymentId;
      saga.cancelTimeout('payment');
      saga.publish(e.ShipmentRequested, { orderId: payment.orderId });
    })
    .on(e.ShipmentDispatched, { correlate: 'orderId' }, (saga, shipment) => {
      saga.state.steps.push('dispatched');
      saga.state.status = 'shipped';
      saga.state.trackingNumber = shipment.trackingNumber;
      saga.complete('shipped');
    })
    .onTimeout('payment', (saga) => {
      saga.state.steps.push('payment-timeout');
      saga.state.status = 'cancelled';
      saga.compensate('payment timed out');
    });
}

/** How the other services publish and record what they did (per order, for the assertions and the ledger). */
export interface FulfilmentIo {
  publish<T>(event: EventDefinition<T>, payload: T): Promise<unknown>;
  record(
    kind: 'charged' | 'shipped' | 'cancelled' | 'released',
    orderId: string,
    messageId: string,
  ): void | Promise<void>;
}

/**
 * The other services of the flow: payment (pays orders whose number is even, never answers odd
 * ones, so those time out), the warehouse (dispatches every requested shipment, releases stock)
 * and customer notifications (order cancelled). Each records its effect through `io`.
 */
export function fulfilmentServices(
  e: FulfilmentEvents,
  io: FulfilmentIo,
  group: string,
  middleware: readonly HandlerMiddleware[] = [],
): (new () => object)[] {
  const options = (name: string): EventHandlerOptions => ({
    group: `${group}-${name}`,
    concurrency: 4,
    middleware,
    retry: { maxAttempts: 100, initialDelayMs: 100, maxDelayMs: 2000 },
  });
  class Payments {
    @EventHandler(e.PaymentRequested, options('payments'))
    async pay(request: { orderId: string }, context: HandlerContext): Promise<void> {
      const n = Number(request.orderId.split('-').pop());
      if (n % 2 !== 0) return;
      await io.record('charged', request.orderId, context.envelope.id);
      await io.publish(e.PaymentSucceeded, { orderId: request.orderId, paymentId: `pay-${request.orderId}` });
    }
  }
  class Warehouse {
    @EventHandler(e.ShipmentRequested, options('warehouse'))
    async ship(request: { orderId: string }, context: HandlerContext): Promise<void> {
      await io.record('shipped', request.orderId, context.envelope.id);
      await io.publish(e.ShipmentDispatched, {
        orderId: request.orderId,
        trackingNumber: `trk-${request.orderId}`,
      });
    }
    @EventHandler(e.StockReleased, options('warehouse'))
    async release(released: { orderId: string }, context: HandlerContext): Promise<void> {
      await io.record('released', released.orderId, context.envelope.id);
    }
  }
  class Notifications {
    @EventHandler(e.OrderCancelled, options('notifications'))
    async cancelled(cancelled: { orderId: string }, context: HandlerContext): Promise<void> {
      await io.record('cancelled', cancelled.orderId, context.envelope.id);
    }
  }
  return [Payments, Warehouse, Notifications];
}
