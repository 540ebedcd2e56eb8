import { EventBus, EventHandler, type HandlerContext, type PayloadOf } from '@omnibus/core';
import { inject, injectable } from 'inversify';
import { OrderPlaced, PaymentFailed, PaymentSucceeded } from './events.js';
import { PaymentGateway } from './payment-gateway.js';

type Order = PayloadOf<typeof OrderPlaced>;

/** Charges every placed order and reports the payment outcome. */
@injectable()
export class BillingHandler {
  constructor(
    @inject(EventBus) private readonly bus: EventBus,
    @inject(PaymentGateway) private readonly gateway: PaymentGateway,
  ) {}

  /** Throwing lets the router retry with backoff, then dead-letter. */
  @EventHandler(OrderPlaced, { group: 'billing', retry: { maxAttempts: 3, initialDelayMs: 200, maxDelayMs: 1_000 } })
  async onOrderPlaced(order: Order, _context: HandlerContext): Promise<void> {
    const result = await this.gateway.charge(order.orderId, order.card, order.amountCents);
    if (result.status === 'captured') {
      await this.bus.publish(PaymentSucceeded, { orderId: order.orderId, paymentId: result.paymentId, amountCents: order.amountCents });
    } else {
      await this.bus.publish(PaymentFailed, { orderId: order.orderId, reason: result.reason });
    }
  }
}
