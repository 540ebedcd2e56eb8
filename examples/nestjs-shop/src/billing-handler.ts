import { Inject, Injectable } from '@nestjs/common';
import { EventBus, EventHandler, type PayloadOf } from '@omnibus/core';
import { OrderCharged, OrderPlaced } from './events.js';
import { PaymentService } from './payment-service.js';

/** A Nest provider with `@EventHandler` methods: OmnibusModule discovers it and subscribes it. */
@Injectable()
export class BillingHandler {
  constructor(
    @Inject(PaymentService) private readonly payments: PaymentService,
    @Inject(EventBus) private readonly bus: EventBus,
  ) {}

  @EventHandler(OrderPlaced, { group: 'billing', retry: { maxAttempts: 3 } })
  async onOrderPlaced(order: PayloadOf<typeof OrderPlaced>): Promise<void> {
    await this.payments.charge(order.orderId, order.amountCents);
    await this.bus.publish(OrderCharged, order);
  }
}
