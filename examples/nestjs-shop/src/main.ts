import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { EventBus } from '@omnibus/core';
import { waitFor } from '@omnibus/core/testing';
import { AppModule } from './app-module.js';
import { OrderPlaced } from './events.js';
import { ReceiptHandler } from './receipt-handler.js';

// A Nest application context (no HTTP server needed): the bus starts on bootstrap, handlers are
// Nest providers, and app.close() drains in-flight handlers before the transport closes.
const app = await NestFactory.createApplicationContext(AppModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
const bus = app.get(EventBus);
const orders = ['N-1', 'N-2', 'N-3'];
for (const [i, orderId] of orders.entries())
  await bus.publish(OrderPlaced, { orderId, amountCents: 1_000 * (i + 1) });
const receipts = app.get(ReceiptHandler);
await waitFor(() => receipts.sent.length === orders.length, {
  timeoutMs: 30_000,
  message: 'receipts for every order',
});
await app.close();
console.log(`NestJS demo: ${String(receipts.sent.length)} orders charged and receipted; bus ${bus.status}`);
