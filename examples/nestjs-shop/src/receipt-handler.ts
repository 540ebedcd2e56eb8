import { Injectable } from '@nestjs/common';
import { EventHandler, type PayloadOf } from '@omnibus/core';
import { OrderCharged } from './events.js';

/** Sends receipts; records them so the demo can wait for its last step. */
@Injectable()
export class ReceiptHandler {
  readonly sent: string[] = [];

  @EventHandler(OrderCharged, { group: 'receipts' })
  onOrderCharged(order: PayloadOf<typeof OrderCharged>): Promise<void> {
    this.sent.push(order.orderId);
    console.log(`receipt for ${order.orderId}: ${(order.amountCents / 100).toFixed(2)} EUR`);
    return Promise.resolve();
  }
}
