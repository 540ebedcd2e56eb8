export { RoutedTransport, transportFor } from './routed-transport.js';
export type { TransportRouting } from './routed-transport.js';
export { mergeCapabilities } from './merge-capabilities.js';
