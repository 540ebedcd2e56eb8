// Public API of @omnibus/transport-azure. Explicit named exports only.
export { AzureServiceBusTransport, AZURE_MAX_DELAY_MS, retryFilter } from './azure-service-bus-transport.js';
export { azureTransport } from './azure-transport-provider.js';
export {
  azureOptionSchema,
  resolveAzureOptions,
  STANDARD_TIER_MAX_MESSAGE_BYTES,
  HEADER_ALLOWANCE_BYTES,
} from './azure-options.js';
export type { AzureServiceBusOptions, AzureServiceBusOptionsInput } from './azure-options.js';
export { mapAzureError } from './azure-error-mapper.js';
export type { AzureOperation } from './azure-error-mapper.js';
export { topicName, subscriptionName, sessionIdFor } from './entity-names.js';
export {
  fromReceivedMessage,
  toServiceBusMessage,
  RETRY_TARGET_PROPERTY,
  SOURCE_MESSAGE_ID_PROPERTY,
} from './message-mapper.js';
export type { DecodedMessage } from './message-mapper.js';
export { AdminClientProvisioner } from './provisioning/admin-client-provisioner.js';
export { EmulatorProvisioner } from './provisioning/emulator-provisioner.js';
export { NoopProvisioner } from './provisioning/entity-provisioner.js';
export type { EntityProvisioner, SubscriptionSettings } from './provisioning/entity-provisioner.js';
