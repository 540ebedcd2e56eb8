import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { SettleOnceDelivery } from '@omnibus/core/adapter-kit';
import { AzureSettlement } from '../../src/azure-delivery.js';
import type { AzureDelivery, AzureSettlementContext } from '../../src/azure-delivery.js';
import { fromReceivedMessage } from '../../src/message-mapper.js';

/** A settlement context plus the receiver the message came from. */
export type TestSettlementContext = AzureSettlementContext & { readonly receiver: ServiceBusReceiver };

/** The delivery a consumer builds for `message` (see `handleMessage`), without a consumer. */
export function testDelivery(
  message: ServiceBusReceivedMessage,
  context: TestSettlementContext,
): AzureDelivery {
  const { receiver, ...settlement } = context;
  const decoded = fromReceivedMessage(message);
  return new SettleOnceDelivery(
    new AzureSettlement(settlement),
    { message, receiver },
    decoded.envelope,
    decoded.deliveryAttempt,
  );
}
