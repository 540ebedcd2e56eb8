import { Injectable } from '@nestjs/common';

/** A stand-in payment provider: an ordinary Nest provider the handler gets injected. */
@Injectable()
export class PaymentService {
  readonly charged: string[] = [];

  charge(orderId: string, amountCents: number): Promise<string> {
    this.charged.push(orderId);
    return Promise.resolve(`pay-${orderId}-${String(amountCents)}`);
  }
}
