import { ErrorCodes, OmnibusError, parseOptions, redactOptions } from '@omnibus/core';
import type { OptionSchema, ParsedOptions } from '@omnibus/core';

/** Broker used when neither `url` nor `urls` is set: the local development broker. */
export const DEFAULT_URL = 'amqp://guest:guest@127.0.0.1:5672';

/** Default delay tiers (ms): fine steps for retries, coarse ones for delayed delivery, up to 24 h. */
export const DEFAULT_DELAY_TIERS_MS: readonly number[] = [
  100, 250, 500, 1_000, 2_000, 5_000, 10_000, 30_000, 60_000, 120_000, 300_000, 600_000, 1_800_000, 3_600_000,
  21_600_000, 86_400_000,
];

/**
 * Options accepted by the RabbitMQ transport. Environment variables map as
 * `OMNIBUS_RABBITMQ_<OPTION>` (e.g. `OMNIBUS_RABBITMQ_QUEUE_TYPE=classic`). Secrets (`password`,
 * `tlsKeyPassphrase`, and passwords inside `urls`) are redacted wherever options are logged.
 */
export const rabbitmqOptionSchema = {
  url: {
    type: 'string',
    description:
      'One broker URL (amqp:// or amqps://); shorthand for urls: [url]. Use url or urls, not both.',
  },
  urls: {
    type: 'string[]',
    description: `Broker URLs (amqp:// or amqps://), tried in order on connect and reconnect. Default (when url is not set either): ${DEFAULT_URL}.`,
  },
  username: { type: 'string', description: 'User name; overrides the one in the URLs.' },
  password: { type: 'string', secret: true, description: 'Password; overrides the one in the URLs.' },
  connectionName: {
    type: 'string',
    default: 'omnibus',
    description: 'Client-provided connection name shown by the broker.',
  },
  heartbeatSeconds: {
    type: 'integer',
    default: 20,
    min: 0,
    max: 3600,
    description: 'AMQP heartbeat interval (0 disables heartbeats).',
  },
  connectTimeoutMs: {
    type: 'integer',
    default: 10_000,
    min: 100,
    description: 'How long connect() keeps trying before it rejects.',
  },
  reconnectInitialDelayMs: {
    type: 'integer',
    default: 100,
    min: 10,
    description: 'First delay between reconnect attempts.',
  },
  reconnectMaxDelayMs: {
    type: 'integer',
    default: 5_000,
    min: 10,
    description: 'Largest delay between reconnect attempts (exponential backoff).',
  },
  prefix: {
    type: 'string',
    default: 'omnibus',
    description: 'Prefix of every exchange and queue name ([A-Za-z0-9._-]).',
  },
  queueType: {
    type: 'string',
    default: 'quorum',
    oneOf: ['quorum', 'classic'],
    description: 'Type of every queue the transport declares.',
  },
  provisioning: {
    type: 'string',
    default: 'create',
    oneOf: ['create', 'verify'],
    description:
      'create: declare exchanges, queues and bindings (idempotent); verify: only check they exist.',
  },
  prefetch: {
    type: 'integer',
    default: 0,
    min: 0,
    max: 65_535,
    description: 'Per-consumer prefetch; 0 derives it from the subscription concurrency.',
  },
  delayTiersMs: {
    type: 'integer[]',
    default: DEFAULT_DELAY_TIERS_MS,
    description: 'Delay tiers (ms), one TTL wait queue each; a delay is rounded up to the next tier.',
  },
  delayTierProvisioning: {
    type: 'string',
    default: 'lazy',
    oneOf: ['lazy', 'eager'],
    description:
      'lazy: declare a delay tier (exchange + TTL wait queue) on the first retry or delayed publish that needs it; eager: declare every tier when provisioning.',
  },
  maxPayloadBytes: {
    type: 'integer',
    default: 16 * 1024 * 1024,
    min: 1,
    max: 128 * 1024 * 1024,
    description: 'Largest payload accepted at publish (the broker default max_message_size is 128 MiB).',
  },
  publishTimeoutMs: {
    type: 'integer',
    default: 30_000,
    min: 100,
    description: 'How long publish waits for a connection and the broker confirm before it rejects.',
  },
  publishWindow: {
    type: 'integer',
    default: 1_000,
    min: 1,
    description: 'Most unconfirmed publishes in flight on the confirm channel.',
  },
  tlsCaFile: { type: 'string', description: 'PEM file with the CA certificate(s) to trust (amqps).' },
  tlsCertFile: { type: 'string', description: 'PEM client certificate file (amqps, EXTERNAL/mutual TLS).' },
  tlsKeyFile: { type: 'string', description: 'PEM client private key file.' },
  tlsKeyPassphrase: { type: 'string', secret: true, description: 'Passphrase of the client private key.' },
  tlsServername: { type: 'string', description: 'TLS SNI server name, when it differs from the URL host.' },
  tlsRejectUnauthorized: {
    type: 'boolean',
    default: true,
    description: 'Reject servers whose certificate does not verify.',
  },
} as const satisfies OptionSchema;

/** Resolved RabbitMQ transport options: every defaulted option present, `url` folded into `urls`. */
export type RabbitMqTransportOptions = Omit<ParsedOptions<typeof rabbitmqOptionSchema>, 'url' | 'urls'> & {
  readonly urls: readonly string[];
};

/** The raw input accepted by {@link resolveRabbitMqOptions} and `new RabbitMqTransport(...)`. */
export type RabbitMqTransportInput = Partial<{
  -readonly [K in keyof ParsedOptions<typeof rabbitmqOptionSchema>]: ParsedOptions<
    typeof rabbitmqOptionSchema
  >[K];
}>;

const PREFIX_PATTERN = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Validate raw options against {@link rabbitmqOptionSchema} plus the cross-field rules (prefix
 * characters, URL schemes, tiers). Throws one `CONFIGURATION_INVALID` error listing every
 * problem; never echoes a secret. Pure: no I/O.
 */
export function resolveRabbitMqOptions(raw: Readonly<Record<string, unknown>>): RabbitMqTransportOptions {
  const parsed = parseOptions(rabbitmqOptionSchema, raw, 'rabbitmq');
  const issues = parsed.ok ? [] : [...parsed.issues];
  let options: RabbitMqTransportOptions | undefined;
  if (parsed.ok) {
    const { url, urls, ...rest } = parsed.options;
    if (url !== undefined && urls !== undefined)
      issues.push('rabbitmq.url and rabbitmq.urls are both set: use one of them');
    const tiers = [...new Set(rest.delayTiersMs)].sort((a, b) => a - b);
    options = { ...rest, urls: url !== undefined ? [url] : (urls ?? [DEFAULT_URL]), delayTiersMs: tiers };
    issues.push(...crossFieldIssues(options));
  }
  if (options === undefined || issues.length > 0) {
    const shown = JSON.stringify(redactOptions(rabbitmqOptionSchema, raw));
    throw new OmnibusError(
      ErrorCodes.CONFIGURATION_INVALID,
      `Invalid RabbitMQ transport options ${shown}:\n- ${issues.join('\n- ')}`,
    );
  }
  return options;
}

function crossFieldIssues(options: RabbitMqTransportOptions): string[] {
  const issues: string[] = [];
  if (!PREFIX_PATTERN.test(options.prefix)) {
    issues.push(`rabbitmq.prefix must match ${PREFIX_PATTERN.source}, got "${options.prefix}"`);
  }
  if (options.urls.length === 0) issues.push('rabbitmq.urls must list at least one URL');
  options.urls.forEach((url, index) => {
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      issues.push(`rabbitmq.urls[${String(index)}] is not a valid URL`);
      return;
    }
    if (protocol !== 'amqp:' && protocol !== 'amqps:') {
      issues.push(`rabbitmq.urls[${String(index)}] must use amqp:// or amqps://, got ${protocol}//`);
    }
  });
  if (options.delayTiersMs.length === 0) issues.push('rabbitmq.delayTiersMs must list at least one tier');
  if (options.delayTiersMs.some((tier) => tier < 1 || tier > 0xffffffff)) {
    issues.push('rabbitmq.delayTiersMs entries must be between 1 and 4294967295 ms');
  }
  if (options.reconnectMaxDelayMs < options.reconnectInitialDelayMs) {
    issues.push('rabbitmq.reconnectMaxDelayMs must be ≥ reconnectInitialDelayMs');
  }
  return issues;
}
