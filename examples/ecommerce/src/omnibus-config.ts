// The demo's events and handlers as one `config` export: main.ts starts the bus with it, and the
// `omnibus` CLI loads it (`omnibus doctor --config examples/ecommerce/dist/src/omnibus-config.js`).
import 'reflect-metadata';
import type { EventBusConfig } from '@omnibus/core';
import { BillingHandler } from './billing-handler.js';
import { ALL_EVENTS } from './events.js';
import { NotificationHandler } from './notification-handler.js';
import { ShippingHandler } from './shipping-handler.js';

/** Events and handlers of the demo (the transport comes from the environment). */
export const config = {
  events: [...ALL_EVENTS],
  handlers: [BillingHandler, ShippingHandler, NotificationHandler],
} satisfies EventBusConfig;
