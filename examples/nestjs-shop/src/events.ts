import { defineEvent } from '@omnibus/core';
import { z } from 'zod';

/** A customer placed an order. */
export const OrderPlaced = defineEvent('nest-shop.order-placed.v1', {
  schema: z.object({ orderId: z.string().min(1), amountCents: z.number().int().positive() }),
});

/** The order was charged. */
export const OrderCharged = defineEvent('nest-shop.order-charged.v1', {
  schema: z.object({ orderId: z.string(), amountCents: z.number().int() }),
});
