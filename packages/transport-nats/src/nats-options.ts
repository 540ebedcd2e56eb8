import { ErrorCodes, OmnibusError, parseOptions, redactOptions } from '@omnibus/core';
import type { OptionSchema, ParsedOptions } from '@omnibus/core';

/** Server used when `servers` is not set: the local development server. */
export const DEFAULT_SERVER = 'nats://127.0.0.1:4222';

/**
 * Options accepted by the NATS JetStream transport. Environment variables map as
 * `OMNIBUS_NATS_<OPTION>` (e.g. `OMNIBUS_NATS_SERVERS=nats://10.0.0.5:4222`). Secrets
 * (`password`, `token`) are redacted wherever options are logged.
 */
export const natsOptionSchema = {
  servers: {
    type: 'string[]',
    default: [DEFAULT_SERVER],
    description: `NATS server URLs (nats://host:port or host:port), tried in order on connect and reconnect. Default: ${DEFAULT_SERVER}.`,
  },
  username: { type: 'string', description: 'User name (user/password authentication).' },
  password: { type: 'string', secret: true, description: 'Password (user/password authentication).' },
  token: { type: 'string', secret: true, description: 'Authentication token.' },
  connectionName: {
    type: 'string',
    default: 'omnibus',
    description: 'Client connection name shown by the server (connz).',
  },
  connectTimeoutMs: {
    type: 'integer',
    default: 10_000,
    min: 100,
    description: 'How long connect() waits for the server (and JetStream) before it rejects.',
  },
  reconnectWaitMs: {
    type: 'integer',
    default: 250,
    min: 10,
    description: 'Delay between reconnect attempts (the client reconnects forever once connected).',
  },
  prefix: {
    type: 'string',
    default: 'omnibus',
    description: 'Prefix of every stream, subject and consumer name ([A-Za-z0-9_-]).',
  },
  provisioning: {
    type: 'string',
    default: 'create',
    oneOf: ['create', 'verify'],
    description: 'create: add streams and durable consumers (idempotent); verify: only check they exist.',
  },
  storage: {
    type: 'string',
    default: 'file',
    oneOf: ['file', 'memory'],
    description:
      'JetStream storage of the streams the transport creates (memory streams do not survive a restart).',
  },
  replicas: {
    type: 'integer',
    default: 1,
    min: 1,
    max: 5,
    description: 'Replicas of every stream the transport creates (clustered JetStream).',
  },
  maxAgeMs: {
    type: 'integer',
    default: 7 * 24 * 3_600_000,
    min: 0,
    description:
      'Retention of every destination stream (limits retention): a message is kept this long whether consumed or not, then discarded even if a group never consumed it (0 keeps messages forever).',
  },
  duplicateWindowMs: {
    type: 'integer',
    default: 120_000,
    min: 0,
    description:
      'JetStream duplicate window: a second publish with the same message id within it is dropped (0 turns de-duplication off).',
  },
  ackWaitMs: {
    type: 'integer',
    default: 30_000,
    min: 1_000,
    description:
      'Consumer ack wait: an unacknowledged delivery is redelivered after it; extended with working() while a handler runs.',
  },
  maxDeliver: {
    type: 'integer',
    default: 1_000,
    min: 2,
    description:
      'Consumer MaxDeliver (safety net): the delivery that reaches it is dead-lettered instead of retried.',
  },
  orderedPartitions: {
    type: 'integer',
    default: 8,
    min: 1,
    max: 256,
    description:
      'Subjects per destination that partition keys hash onto; an ordered group has one consumer per partition (one message in flight each). Fixed once a destination exists.',
  },
  maxRetryDelayMs: {
    type: 'integer',
    default: 86_400_000,
    min: 1,
    description: 'Longest retry delay (nak delay) accepted; longer ones reject with DELAY_OUT_OF_RANGE.',
  },
  maxPayloadBytes: {
    type: 'integer',
    default: 1024 * 1024 - 64 * 1024,
    min: 1,
    max: 64 * 1024 * 1024,
    description:
      "Largest payload accepted at publish. Must leave room for the headers below the server's max_payload (default 1 MiB).",
  },
  publishTimeoutMs: {
    type: 'integer',
    default: 30_000,
    min: 100,
    description: 'How long publish waits for the JetStream PubAck before it rejects.',
  },
  settleTimeoutMs: {
    type: 'integer',
    default: 10_000,
    min: 100,
    description: 'How long ack (double-ack), retry and dead-letter wait for the server before they reject.',
  },
} as const satisfies OptionSchema;

/** Resolved NATS transport options: every defaulted option present. */
export type NatsTransportOptions = ParsedOptions<typeof natsOptionSchema>;

/** The raw input accepted by {@link resolveNatsOptions} and `new NatsTransport(...)`. */
export type NatsTransportInput = Partial<{
  -readonly [K in keyof NatsTransportOptions]: NatsTransportOptions[K];
}>;

const PREFIX_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * Validate raw options against {@link natsOptionSchema} plus the cross-field rules (prefix
 * characters, server URLs). Throws one `CONFIGURATION_INVALID` error listing every problem;
 * never echoes a secret. Pure: no I/O.
 */
export function resolveNatsOptions(raw: Readonly<Record<string, unknown>>): NatsTransportOptions {
  const parsed = parseOptions(natsOptionSchema, raw, 'nats');
  const issues = parsed.ok ? [] : [...parsed.issues];
  if (parsed.ok) issues.push(...crossFieldIssues(parsed.options));
  if (!parsed.ok || issues.length > 0) {
    const shown = JSON.stringify(redactOptions(natsOptionSchema, raw));
    throw new OmnibusError(
      ErrorCodes.CONFIGURATION_INVALID,
      `Invalid NATS transport options ${shown}:\n- ${issues.join('\n- ')}`,
    );
  }
  return parsed.options;
}

function crossFieldIssues(options: NatsTransportOptions): string[] {
  const issues: string[] = [];
  if (!PREFIX_PATTERN.test(options.prefix)) {
    issues.push(`nats.prefix must match ${PREFIX_PATTERN.source}, got "${options.prefix}"`);
  }
  if (options.servers.length === 0) issues.push('nats.servers must list at least one server');
  options.servers.forEach((server, index) => {
    const url = server.includes('://') ? server : `nats://${server}`;
    let protocol: string;
    try {
      protocol = new URL(url).protocol;
    } catch {
      issues.push(`nats.servers[${String(index)}] is not a valid server URL`);
      return;
    }
    if (!['nats:', 'tls:'].includes(protocol)) {
      issues.push(`nats.servers[${String(index)}] must use nats:// or tls://, got ${protocol}//`);
    }
  });
  if (options.token !== undefined && options.username !== undefined) {
    issues.push('nats.token and nats.username are both set: use one authentication method');
  }
  if (options.maxAgeMs > 0 && options.duplicateWindowMs > options.maxAgeMs) {
    issues.push('nats.duplicateWindowMs must not exceed nats.maxAgeMs');
  }
  if (options.password !== undefined && options.username === undefined) {
    issues.push('nats.password needs nats.username');
  }
  return issues;
}
