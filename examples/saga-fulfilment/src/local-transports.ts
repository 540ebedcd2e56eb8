// Each transport pointed at the brokers `npm run brokers -- up` starts on this machine.
import {
  InMemoryTransport,
  type InMemoryBroker,
  type Transport,
  type TransportSelection,
} from '@omnibus/core';

/**
 * The transport `name` on this machine's brokers (`npm run brokers -- up`). SQS runs on ElasticMQ
 * without SNS (`fanOut: 'none'`): SNS has no delayed delivery, which saga timeouts need, and every
 * event of the flow has one consumer group.
 */
export function transportFor(name: string, broker?: InMemoryBroker): Transport | TransportSelection {
  switch (name) {
    case 'in-memory':
      return new InMemoryTransport(broker === undefined ? {} : { broker });
    case 'rabbitmq':
      return { name, options: { url: 'amqp://guest:guest@127.0.0.1:5672' } };
    case 'kafka':
      return { name, options: { brokers: ['127.0.0.1:9092'] } };
    case 'sqs':
      return {
        name,
        options: {
          endpoint: 'http://127.0.0.1:9324', // ElasticMQ
          region: 'us-east-1',
          accessKeyId: 'local',
          secretAccessKey: 'local',
          waitTimeSeconds: 1,
          visibilityTimeoutSeconds: 10,
          fanOut: 'none',
        },
      };
    case 'nats':
      return { name, options: { servers: ['nats://127.0.0.1:4222'] } };
    case 'azure':
      return {
        name,
        options: {
          connectionString:
            'Endpoint=sb://127.0.0.1:5673;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;',
          provisioning: 'emulator',
        },
      };
    default:
      throw new Error(`unknown transport ${name}`);
  }
}
