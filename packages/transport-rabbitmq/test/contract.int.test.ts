// The shared Omnibus transport contract suite against the real RabbitMQ, in two configurations:
// quorum queues with the default delay tiers (and the slow fault cases), and classic queues.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeTransportContract } from '@omnibus/contract-tests';
import { openTelemetryHarness } from '@omnibus/contract-tests/telemetry';
import type { SubscriptionSpec, DeliveryHandler, Subscription, TopologySpec } from '@omnibus/core';
import {
  DEFAULT_DELAY_TIERS_MS,
  RabbitMqTransport,
  rabbitMqCapabilities,
  resolveRabbitMqOptions,
} from '../src/index.js';
import type { RabbitMqTransportInput } from '../src/index.js';
import {
  NativeClient,
  RABBITMQ_URL,
  dropRabbitMqConnections,
  ensureRabbitMq,
  restartRabbitMq,
  uniquePrefix,
} from './rabbitmq-test-support.js';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const childTransportModule = fileURLToPath(new URL('./child-transport.js', import.meta.url));

interface Configuration {
  readonly label: string;
  readonly options: RabbitMqTransportInput;
  readonly faults: boolean;
}

const configurations: Configuration[] = [
  {
    label: 'quorum queues',
    options: { queueType: 'quorum', prefix: uniquePrefix('quorum') },
    faults: true,
  },
  {
    label: 'classic queues',
    options: {
      queueType: 'classic',
      prefix: uniquePrefix('classic'),
      delayTiersMs: [100, 200, 400, 800, 1_000, 5_000, 60_000, 300_000],
    },
    faults: false,
  },
];

before(async function () {
  this.timeout(180_000);
  await ensureRabbitMq();
});

for (const configuration of configurations) {
  const options: RabbitMqTransportInput = {
    urls: [RABBITMQ_URL],
    reconnectMaxDelayMs: 1_000,
    ...configuration.options,
  };
  const native = new NativeClient(options.prefix as string);
  const tiers = options.delayTiersMs ?? DEFAULT_DELAY_TIERS_MS;

  /** Records what the suite provisions so that the run can delete it afterwards. */
  class TrackedRabbitMqTransport extends RabbitMqTransport {
    override provision(topology: TopologySpec): Promise<void> {
      for (const destination of topology.destinations) {
        native.track(destination.name);
        for (const group of destination.groups) native.track(destination.name, group.name);
      }
      return super.provision(topology);
    }

    override subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription> {
      native.track(spec.destination, spec.group);
      return super.subscribe(spec, onDelivery);
    }
  }

  if (configuration.faults) process.env['OMNIBUS_TEST_RABBITMQ_OPTIONS'] = JSON.stringify(options);

  describeTransportContract({
    name: `rabbitmq (${configuration.label})`,
    version: packageJson.version,
    capabilities: rabbitMqCapabilities(resolveRabbitMqOptions(options)),
    createTransport: () => new TrackedRabbitMqTransport(options),
    readDeadLetters: (destination, group, count, timeoutMs) =>
      native.readDeadLetters(destination, group, count, timeoutMs),
    publishForeign: (destination, body, headers) => native.publishForeign(destination, body, headers),
    runFaultCases: configuration.faults,
    // The volume case runs once per transport: in the configuration with the fault cases.
    ...(configuration.faults ? {} : { volume: { messages: 0 } }),
    publishTimeoutMs: resolveRabbitMqOptions(options).publishTimeoutMs,
    telemetry: openTelemetryHarness(),
    faults: {
      restartBroker: restartRabbitMq,
      dropConnections: dropRabbitMqConnections,
      childTransportModule,
    },
  });

  after(async function () {
    this.timeout(60_000);
    await native.cleanup(tiers);
  });
}
