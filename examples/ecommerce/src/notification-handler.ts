import { EventHandler, type HandlerContext, type PayloadOf } from '@omnibus/core';
import { injectable } from 'inversify';
import { OrderPlaced, PaymentFailed, PaymentSucceeded, ShipmentDispatched } from './events.js';

/** What the notification service "sent", kept for the demo summary. */
export interface SentNotification {
  readonly orderId: string;
  readonly text: string;
}

/** Tells customers what happened. Its own group, so it sees every event (fan-out). */
@injectable()
export class NotificationHandler {
  static readonly sent: SentNotification[] = [];

  @EventHandler(OrderPlaced, { group: 'notifications' })
  onOrderPlaced(order: PayloadOf<typeof OrderPlaced>): Promise<void> {
    return this.#send(order.orderId, `thanks ${order.customer}, we received your order`);
  }

  @EventHandler(PaymentSucceeded, { group: 'notifications' })
  onPaymentSucceeded(payment: PayloadOf<typeof PaymentSucceeded>): Promise<void> {
    return this.#send(payment.orderId, `payment of ${(payment.amountCents / 100).toFixed(2)} captured`);
  }

  @EventHandler(PaymentFailed, { group: 'notifications' })
  onPaymentFailed(failure: PayloadOf<typeof PaymentFailed>): Promise<void> {
    return this.#send(failure.orderId, `payment declined: ${failure.reason}`);
  }

  @EventHandler(ShipmentDispatched, { group: 'notifications' })
  onShipmentDispatched(shipment: PayloadOf<typeof ShipmentDispatched>, context: HandlerContext): Promise<void> {
    return this.#send(shipment.orderId, `shipped with tracking ${shipment.trackingNumber} (conversation ${context.envelope.correlationId ?? '-'})`);
  }

  #send(orderId: string, text: string): Promise<void> {
    NotificationHandler.sent.push({ orderId, text });
    return Promise.resolve();
  }
}
