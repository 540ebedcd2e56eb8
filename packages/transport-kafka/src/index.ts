// Public API of @omnibus/transport-kafka. Explicit named exports only; kafkajs stays internal.
export { KafkaTransport, kafkaCapabilities } from './kafka-transport.js';
export type { KafkaTransportDeps } from './kafka-transport.js';
export { kafkaTransport } from './kafka-transport-provider.js';
export { kafkaOptionSchema, parseKafkaOptions } from './kafka-options.js';
export type { KafkaTransportOptions, KafkaTransportOptionsInput } from './kafka-options.js';
export { KafkaHeaders } from './kafka-headers.js';
export type {
  KafkaClientPort,
  ConsumerPort,
  ConsumerConfig,
  ConsumerListeners,
  CommitOffset,
  OutgoingRecord,
  ReceivedBatch,
  ReceivedRecord,
  TopicInfo,
  TopicPartitions,
  TopicRecords,
  TopicSpec,
} from './kafka-client-port.js';
