import { EventBus, EventHandler, type PayloadOf } from '@omnibus/core';
import { inject, injectable } from 'inversify';
import { PaymentSucceeded, ShipmentDispatched } from './events.js';

/** Ships every paid order. */
@injectable()
export class ShippingHandler {
  constructor(@inject(EventBus) private readonly bus: EventBus) {}

  /** Correlation and causation are stamped automatically: we publish inside a handler. */
  @EventHandler(PaymentSucceeded, { group: 'shipping' })
  async onPaymentSucceeded(payment: PayloadOf<typeof PaymentSucceeded>): Promise<void> {
    await this.bus.publish(ShipmentDispatched, { orderId: payment.orderId, trackingNumber: `TRK-${payment.orderId}` });
  }
}
