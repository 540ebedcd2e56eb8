import { ErrorCodes, OmnibusError, parseOptions } from '@omnibus/core';
import type { OptionSchema, ParsedOptions } from '@omnibus/core';

/**
 * Options of the Kafka transport. Environment variables map as `OMNIBUS_KAFKA_<OPTION>` in
 * SCREAMING_SNAKE case (e.g. `OMNIBUS_KAFKA_TOPIC_PREFIX`); lists are comma-separated.
 * `saslPassword` is secret: it is redacted in every log and error.
 */
export const kafkaOptionSchema = {
  brokers: {
    type: 'string[]',
    default: ['127.0.0.1:9092'],
    description: 'Bootstrap brokers, host:port',
  },
  clientId: { type: 'string', default: 'omnibus', description: 'Kafka client id (broker logs, quotas)' },
  topicPrefix: {
    type: 'string',
    default: '',
    description: 'Prefix of every topic name (main, delay, retry and dead-letter topics)',
  },
  groupIdPrefix: {
    type: 'string',
    description:
      'Prefix of every consumer group id (default: topicPrefix); group id = prefix + group + "." + destination',
  },
  partitions: {
    type: 'integer',
    default: 3,
    min: 1,
    description: 'Partitions of topics the transport creates',
  },
  replicationFactor: {
    type: 'integer',
    default: 1,
    min: 1,
    description: 'Replication factor of topics the transport creates (use 3 in production)',
  },
  provisioning: {
    type: 'string',
    default: 'create',
    oneOf: ['create', 'verify'],
    description: 'create: create missing topics; verify: fail when a topic is missing',
  },
  retryTiersMs: {
    type: 'integer[]',
    default: [1000, 10000, 60000, 600000],
    description:
      'Delays of the retry topics of unordered groups, ascending; the largest is the longest retry delay',
  },
  delayTiersMs: {
    type: 'integer[]',
    default: [1000, 10000, 60000, 600000],
    description:
      'Delays of the delay topics used for delayed publish, ascending; empty disables delayed delivery',
  },
  startFrom: {
    type: 'string',
    default: 'earliest',
    oneOf: ['earliest', 'latest'],
    description:
      'Where a new consumer group starts: earliest (messages published before it subscribed) or latest',
  },
  sessionTimeoutMs: {
    type: 'integer',
    default: 10000,
    min: 1000,
    description:
      'Group session timeout: a silent member is evicted after it (broker bounds apply, default ≥ 6000)',
  },
  rebalanceTimeoutMs: {
    type: 'integer',
    default: 20000,
    min: 1000,
    description: 'How long the coordinator waits for members to re-join during a rebalance',
  },
  heartbeatIntervalMs: {
    type: 'integer',
    default: 1000,
    min: 100,
    description: 'Group heartbeat interval; lower values notice rebalances sooner',
  },
  fetchMaxWaitMs: {
    type: 'integer',
    default: 1000,
    min: 10,
    description: 'Longest a fetch waits on the broker for new records',
  },
  trackAttempts: {
    type: 'boolean',
    default: true,
    description:
      'Carry attempt numbers as offset metadata, so deliveryAttempt survives a crash or close (one commit per fetched batch before its records start, plus one before each re-run)',
  },
  maxMessageBytes: {
    type: 'integer',
    default: 1_000_000,
    min: 1,
    description: 'Largest payload accepted at publish; keep below the broker/topic max.message.bytes',
  },
  publishTimeoutMs: {
    type: 'integer',
    default: 30_000,
    min: 100,
    description:
      'How long publish waits and re-sends while the cluster is unreachable before it rejects with a retriable PUBLISH_FAILED',
  },
  publishRetries: {
    type: 'integer',
    default: 8,
    min: 0,
    description: 'Producer retries before a publish rejects (bounds the wait while the broker is down)',
  },
  connectionTimeoutMs: { type: 'integer', default: 3000, min: 100, description: 'TCP connect timeout' },
  connectTimeoutMs: {
    type: 'integer',
    default: 10_000,
    min: 100,
    description: 'How long connect() (bus.start()) keeps trying an unreachable cluster before it rejects',
  },
  requestTimeoutMs: { type: 'integer', default: 30000, min: 100, description: 'Request timeout' },
  ssl: { type: 'boolean', default: false, description: 'Connect with TLS' },
  sslCa: { type: 'string', description: 'PEM CA certificate(s) to trust (TLS)' },
  sslRejectUnauthorized: {
    type: 'boolean',
    default: true,
    description: 'Verify the broker certificate (TLS)',
  },
  saslMechanism: {
    type: 'string',
    oneOf: ['plain', 'scram-sha-256', 'scram-sha-512'],
    description: 'SASL mechanism; unset disables SASL',
  },
  saslUsername: { type: 'string', description: 'SASL user name' },
  saslPassword: { type: 'string', secret: true, description: 'SASL password (secret, never logged)' },
  logLevel: {
    type: 'string',
    default: 'nothing',
    oneOf: ['nothing', 'error', 'warn', 'info', 'debug'],
    description: 'Client log level (written to stderr)',
  },
} as const satisfies OptionSchema;

/** Validated options of the Kafka transport. */
export type KafkaTransportOptions = ParsedOptions<typeof kafkaOptionSchema>;

/** Raw (unvalidated) options, as given in code or configuration. */
export type KafkaTransportOptionsInput = Partial<Record<keyof typeof kafkaOptionSchema, unknown>>;

/**
 * Validate raw options, reporting every problem at once (including cross-field rules: tiers
 * ascending, SASL user and password together). Throws `CONFIGURATION_INVALID` without echoing
 * secret values.
 */
export function parseKafkaOptions(raw: Readonly<Record<string, unknown>>): KafkaTransportOptions {
  const result = parseOptions(kafkaOptionSchema, raw, 'kafka');
  const issues = result.ok ? crossFieldIssues(result.options) : [...result.issues];
  if (!result.ok || issues.length > 0) {
    throw new OmnibusError(
      ErrorCodes.CONFIGURATION_INVALID,
      `Invalid Kafka transport options:\n- ${issues.join('\n- ')}`,
    );
  }
  return result.options;
}

function crossFieldIssues(options: KafkaTransportOptions): string[] {
  const issues: string[] = [];
  if (options.retryTiersMs.length === 0) issues.push('kafka.retryTiersMs needs at least one tier');
  if (!ascending(options.retryTiersMs)) issues.push('kafka.retryTiersMs must be strictly ascending');
  if (!ascending(options.delayTiersMs)) issues.push('kafka.delayTiersMs must be strictly ascending');
  if (
    options.saslMechanism !== undefined &&
    (options.saslUsername === undefined || options.saslPassword === undefined)
  ) {
    issues.push('kafka.saslUsername and kafka.saslPassword are required with kafka.saslMechanism');
  }
  if (options.heartbeatIntervalMs >= options.sessionTimeoutMs) {
    issues.push('kafka.heartbeatIntervalMs must be lower than kafka.sessionTimeoutMs');
  }
  return issues;
}

function ascending(values: readonly number[]): boolean {
  return values.every((value, i) => i === 0 || value > (values[i - 1] as number));
}
