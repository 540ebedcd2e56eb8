// The e-commerce fulfilment flow as a saga, shared by the unit tests and the broker runs:
// order placed → payment requested → payment succeeded → shipment requested → dispatched (completed);
// payment timeout → order cancelled and stock released (compensated).
import { defineEvent, EventHandler, type EventBus, type HandlerContext } from '@omnibus/core';
import { defineSaga, type SagaDefinition } from '../../src/index.js';

export interface FulfilmentEvents {
  readonly OrderPlaced: ReturnType<typeof defineEvent<{ orderId: string; amountCents: number }>>;
  readonly PaymentRequested: ReturnType<typeof defineEvent<{ orderId: string; amountCents: number }>>;
  readonly PaymentSucceeded: ReturnType<typeof defineEvent<{ orderId: string; paymentId: string }>>;
  readonly ShipmentRequested: ReturnType<typeof defineEvent<{ orderId: string }>>;
  readonly ShipmentDispatched: ReturnType<typeof defineEvent<{ orderId: string; trackingNumber: string }>>;
  readonly OrderCancelled: ReturnType<typeof defineEvent<{ orderId: string; reason: string }>>;
  readonly StockReleased: ReturnType<typeof defineEvent<{ orderId: string }>>;
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
    initialState: (): FulfilmentState => ({ status: 'awaiting-payment', amountCents: 0 }),
    publishes: [e.PaymentRequested, e.ShipmentRequested, e.OrderCancelled, e.StockReleased],
    handler: {
      concurrency: handler.concurrency ?? 4,
      retry: { maxAttempts: 50, initialDelayMs: 50, maxDelayMs: 1000 },
    },
    missingRetryDelayMs: 200,
  })
    .startedBy(e.OrderPlaced, { correlate: 'orderId' }, (saga, order) => {
      saga.state.amountCents = order.amountCents;
      saga.publish(e.PaymentRequested, { orderId: order.orderId, amountCents: order.amountCents });
      saga.addCompensation(e.StockReleased, { orderId: order.orderId });
      saga.addCompensation(e.OrderCancelled, { orderId: order.orderId, reason: 'payment timed out' });
      saga.schedule('payment', paymentTimeoutMs);
    })
    .on(e.PaymentSucceeded, { correlate: 'orderId' }, (saga, payment) => {
      if (saga.state.status !== 'awaiting-payment') return;
      saga.state.status = 'awaiting-shipment';
      saga.state.paymentId = payment.paymentId;
      saga.cancelTimeout('payment');
      saga.publish(e.ShipmentRequested, { orderId: payment.orderId });
    })
    .on(e.ShipmentDispatched, { correlate: 'orderId' }, (saga, shipment) => {
      saga.state.status = 'shipped';
      saga.state.trackingNumber = shipment.trackingNumber;
      saga.complete('shipped');
    })
    .onTimeout('payment', (saga) => {
      saga.state.status = 'cancelled';
      saga.compensate('payment timed out');
    });
}

/**
 * The other services of the flow: payment (pays orders whose number is even, never answers odd
 * ones, so those time out) and the warehouse (dispatches every requested shipment).
 */
export function fulfilmentServices(
  e: FulfilmentEvents,
  bus: () => EventBus,
  group: string,
): (new () => object)[] {
  class Payments {
    @EventHandler(e.PaymentRequested, { group: `${group}-payments`, concurrency: 4 })
    async pay(request: { orderId: string }, _context: HandlerContext): Promise<void> {
      const n = Number(request.orderId.split('-').pop());
      if (n % 2 === 0)
        await bus().publish(e.PaymentSucceeded, {
          orderId: request.orderId,
          paymentId: `pay-${request.orderId}`,
        });
    }
  }
  class Warehouse {
    @EventHandler(e.ShipmentRequested, { group: `${group}-warehouse`, concurrency: 4 })
    async ship(request: { orderId: string }, _context: HandlerContext): Promise<void> {
      await bus().publish(e.ShipmentDispatched, {
        orderId: request.orderId,
        trackingNumber: `trk-${request.orderId}`,
      });
    }
  }
  return [Payments, Warehouse];
}
