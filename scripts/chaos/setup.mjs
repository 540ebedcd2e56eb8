// What the chaos run needs per broker: the transport selection (a unique prefix per run), the raw
// publisher for malformed messages, and the faults the broker allows.
import { defineEvent } from '@omnibus/core';
import {
  brokers,
  down as stopBroker,
  restart as restartBroker,
  up as startBroker,
} from '../brokers/index.mjs';
import { run } from '../brokers/process-utils.mjs';

/** Attempts before a poison message is dead-lettered. */
export const MAX_ATTEMPTS = 3;

/** The ledger's event (one destination per run via the transport prefix). */
export const chaosEvent = () => defineEvent('chaos.ledger.v1');

/**
 * Transport selection for a broker. OMNIBUS_CHAOS_KAFKA_LEGACY_GROUP_TIMEOUTS=1 runs Kafka with the
 * group timeouts it had before issue 15 (session 30 s, rebalance 60 s, heartbeat 3 s), for a
 * before/after comparison.
 */
export function transportFor(broker, runId) {
  switch (broker) {
    case 'rabbitmq':
      return {
        name: 'rabbitmq',
        options: { prefix: `chaos-${runId}`, queueType: 'quorum', reconnectMaxDelayMs: 1_000 },
      };
    case 'kafka':
      return {
        name: 'kafka',
        options: {
          topicPrefix: `chaos-${runId}.`,
          partitions: 4,
          fetchMaxWaitMs: 250,
          ...(process.env.OMNIBUS_CHAOS_KAFKA_LEGACY_GROUP_TIMEOUTS === '1'
            ? { sessionTimeoutMs: 30_000, rebalanceTimeoutMs: 60_000, heartbeatIntervalMs: 3_000 }
            : {}),
        },
      };
    case 'sqs':
      return {
        name: 'sqs',
        options: {
          endpoint: 'http://127.0.0.1:9324',
          region: 'us-east-1',
          accessKeyId: 'local',
          secretAccessKey: 'local',
          fanOut: 'none',
          queuePrefix: `chaos-${runId}-`,
          waitTimeSeconds: 1,
          visibilityTimeoutSeconds: 10,
        },
      };
    case 'azure':
      return {
        name: 'azure',
        options: {
          connectionString:
            'Endpoint=sb://127.0.0.1:5673;SharedAccessKeyName=RootManageSharedAccessKey;SharedAccessKey=SAS_KEY_VALUE;UseDevelopmentEmulator=true;',
          provisioning: 'emulator',
          prefix: `chaos-${runId}.`,
        },
      };
    case 'nats':
      return {
        name: 'nats',
        options: { servers: ['nats://127.0.0.1:4222'], prefix: `chaos-${runId}` },
      };
    default:
      throw new Error(`chaos: unknown broker "${broker}" (rabbitmq, kafka, sqs, azure, nats)`);
  }
}

/** Clean-up prefix for `npm run brokers -- clean <broker> <prefix> --yes`. */
export function cleanPrefix(broker, runId) {
  return {
    rabbitmq: `chaos-${runId}`,
    kafka: `chaos-${runId}.`,
    sqs: `chaos-${runId}-`,
    azure: `chaos-${runId}.`,
    nats: `chaos-${runId}`,
  }[broker];
}

/**
 * Broker-side connection drop: RabbitMQ closes every connection (rabbitmqctl), the Service Bus
 * emulator through its admin API, NATS through the broker manager's hook; Kafka and ElasticMQ have
 * none of their own, so the kernel destroys every established client socket of their port
 * (`ss -K`, as root: Kafka clients reconnect, SQS's keep-alive sockets and long polls are cut).
 */
export function dropConnectionsFor(broker) {
  if (broker === 'nats') return () => brokers.nats.dropConnections();
  if (broker === 'kafka' || broker === 'sqs') {
    const port = broker === 'kafka' ? 9092 : 9324;
    return async () => {
      const result = await run('ss', ['-K', '-t', 'state', 'established', `( sport = :${port} )`], {
        allowFail: true,
      });
      if (result.code !== 0) throw new Error(`ss -K failed (needs root): ${result.output}`);
    };
  }
  if (broker === 'rabbitmq')
    return async () => {
      const { code, output } = await brokers.rabbitmq.ctl(['close_all_connections', 'omnibus chaos run']);
      if (code !== 0) throw new Error(`rabbitmqctl close_all_connections failed: ${output}`);
    };
  if (broker === 'azure')
    return async () => {
      const res = await fetch('http://127.0.0.1:5674/connections/drop', { method: 'POST', body: '{}' });
      if (!res.ok) throw new Error(`emulator connection drop answered ${res.status}`);
    };
  return undefined;
}

/**
 * Graceful restart with the same data (the caller holds the broker's lock). With `outageMs`, the
 * broker stays stopped that long before it starts again: a slow restart (a JVM broker reloading its
 * state on a loaded machine took 42–131 s) made repeatable.
 */
export const restartFor =
  (broker, outageMs = 0) =>
  async () => {
    if (outageMs <= 0) return restartBroker(broker);
    await stopBroker(broker);
    await new Promise((resolve) => setTimeout(resolve, outageMs));
    return startBroker(broker);
  };
