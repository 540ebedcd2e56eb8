import { defineEvent } from '@omnibus/core';
import { z } from 'zod';

/** A customer placed an order. */
export const OrderPlaced = defineEvent('shop.order-placed.v1', {
  schema: z.object({
    orderId: z.string().min(1),
    customer: z.string().min(1),
    amountCents: z.number().int().positive(),
    card: z.string().min(4),
  }),
});

/** The payment for an order was captured. */
export const PaymentSucceeded = defineEvent('shop.payment-succeeded.v1', {
  schema: z.object({ orderId: z.string(), paymentId: z.string(), amountCents: z.number().int() }),
});

/** The payment for an order was declined (a business outcome, not an error). */
export const PaymentFailed = defineEvent('shop.payment-failed.v1', {
  schema: z.object({ orderId: z.string(), reason: z.string() }),
});

/** The order left the warehouse. */
export const ShipmentDispatched = defineEvent('shop.shipment-dispatched.v1', {
  schema: z.object({ orderId: z.string(), trackingNumber: z.string() }),
});

/** Every event of the demo, so the bus provisions them all at start. */
export const ALL_EVENTS = [OrderPlaced, PaymentSucceeded, PaymentFailed, ShipmentDispatched] as const;
