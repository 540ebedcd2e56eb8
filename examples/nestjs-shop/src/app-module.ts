import { Module } from '@nestjs/common';
import { loadConfigFromEnv } from '@omnibus/core';
import { OmnibusModule } from '@omnibus/nestjs';
import { BillingHandler } from './billing-handler.js';
import { OrderCharged, OrderPlaced } from './events.js';
import { PaymentService } from './payment-service.js';
import { ReceiptHandler } from './receipt-handler.js';

/** The transport comes from the environment (OMNIBUS_TRANSPORT, default in-memory). */
@Module({
  imports: [
    OmnibusModule.forRootAsync({
      useFactory: () => ({
        ...loadConfigFromEnv(),
        events: [OrderPlaced, OrderCharged],
        drainTimeoutMs: 5_000,
      }),
    }),
  ],
  providers: [PaymentService, BillingHandler, ReceiptHandler],
})
export class AppModule {}
