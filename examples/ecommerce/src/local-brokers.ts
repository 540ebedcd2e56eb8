/**
 * Options that point each transport at the brokers `npm run brokers -- up` starts on this
 * machine, used only when the environment does not configure the transport itself.
 */
export const LOCAL_BROKER_OPTIONS: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  rabbitmq: { url: 'amqp://guest:guest@127.0.0.1:5672' },
  kafka: { brokers: ['127.0.0.1:9092'] },
  // fauxqs emulates SNS + SQS; the demo needs SNS fan-out (several groups per event).
  sqs: {
    endpoint: 'http://127.0.0.1:4566',
    region: 'us-east-1',
    accessKeyId: 'local',
    secretAccessKey: 'local',
    waitTimeSeconds: 1,
  },
  azure: {
    connectionString:
      'Endpoint=sb://127.0.0.1:5673;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;',
    provisioning: 'emulator',
  },
  nats: { servers: ['nats://127.0.0.1:4222'] },
};
