// Shared event definitions for bus/router/config tests.
import { z } from 'zod';
import { defineEvent } from '../../src/index.js';

export interface OrderPlaced {
  readonly orderId: string;
  readonly total: number;
}

export const OrderPlacedEvent = defineEvent<OrderPlaced>('test.order-placed.v1', {
  schema: z.object({ orderId: z.string(), total: z.number().nonnegative() }),
});
export const PaymentTaken = defineEvent<{ readonly orderId: string }>('test.payment-taken.v1');
export const Untyped = defineEvent<unknown>('test.untyped.v1');
