import { parseOptions, type OptionSchema, type ParsedOptions } from '@omnibus/core';
import { ErrorCodes, OmnibusError } from '@omnibus/core';

/**
 * Options of the SQS transport. Every option can also come from an environment variable
 * `OMNIBUS_SQS_<OPTION>` (e.g. `OMNIBUS_SQS_FAN_OUT=none`). Secrets are redacted in logs/errors.
 */
export const sqsOptionSchema = {
  endpoint: {
    type: 'string',
    description:
      'SQS endpoint URL, e.g. http://127.0.0.1:9324 for ElasticMQ. Omit on AWS (the SDK resolves it from the region).',
  },
  snsEndpoint: {
    type: 'string',
    description: 'SNS endpoint URL (fanOut "sns"). Defaults to `endpoint` when that is set.',
  },
  region: {
    type: 'string',
    description:
      'AWS region. Omit on AWS to use the SDK default chain (AWS_REGION, profile); "us-east-1" when `endpoint` is set.',
  },
  accessKeyId: {
    type: 'string',
    description: 'Fixed access key id (local servers). Omit on AWS to use the SDK default credential chain.',
  },
  secretAccessKey: {
    type: 'string',
    secret: true,
    description: 'Fixed secret access key, paired with accessKeyId.',
  },
  sessionToken: {
    type: 'string',
    secret: true,
    description: 'Optional session token, paired with accessKeyId.',
  },
  useQueueUrlAsEndpoint: {
    type: 'boolean',
    description:
      'Send each request to its QueueUrl host (SDK default on AWS). Defaults to false when `endpoint` is set, because local servers hand out queue URLs with hosts that may not resolve.',
  },
  queuePrefix: {
    type: 'string',
    default: '',
    description: 'Prefix of every queue and topic name this transport creates or uses.',
  },
  fifo: {
    type: 'boolean',
    default: false,
    description:
      'Use FIFO queues (and FIFO topics): per-key ordering via MessageGroupId, publish de-duplication via MessageDeduplicationId; no per-message delay.',
  },
  fanOut: {
    type: 'string',
    oneOf: ['sns', 'none'],
    default: 'sns',
    description:
      '"sns": an SNS topic per destination with one SQS queue per group subscribed (raw delivery), so groups fan out. "none": one SQS queue per destination, consumed by exactly one group.',
  },
  provisioning: {
    type: 'string',
    oneOf: ['create', 'verify'],
    default: 'create',
    description:
      '"create": create missing topics, queues, dead-letter queues, redrive policies and subscriptions. "verify": only check they exist; fail at start otherwise.',
  },
  visibilityTimeoutSeconds: {
    type: 'integer',
    default: 30,
    min: 1,
    max: 43200,
    description: 'Visibility timeout of received messages; extended every third of it while a handler runs.',
  },
  waitTimeSeconds: {
    type: 'integer',
    default: 5,
    min: 0,
    max: 20,
    description:
      'Long-poll wait of each ReceiveMessage call. close()/bus.stop() waits out a poll in flight, so this bounds how long stopping takes beyond the drain.',
  },
  maxPollers: {
    type: 'integer',
    default: 4,
    min: 1,
    max: 100,
    description: 'Most concurrent ReceiveMessage loops per subscription (never more than its concurrency).',
  },
  receiveBatchSize: {
    type: 'integer',
    default: 10,
    min: 1,
    max: 10,
    description: 'Most messages one ReceiveMessage call asks for.',
  },
  maxReceiveCount: {
    type: 'integer',
    default: 50,
    min: 2,
    max: 1000,
    description:
      'Redrive-policy safety net: after this many receives SQS itself moves a message to the dead-letter queue (without a reason). Keep it above every handler retry.maxAttempts.',
  },
  durableBroker: {
    type: 'boolean',
    default: true,
    description:
      'Whether the endpoint keeps accepted messages across its own restarts (true for Amazon SQS). Declared as the survivesBrokerRestart capability; set false for emulators whose persistence is asynchronous (ElasticMQ lost a message accepted shortly before a restart in our runs).',
  },
  maxMessageBytes: {
    type: 'integer',
    default: 262144,
    min: 16384,
    max: 1048576,
    description:
      'Largest SQS/SNS message (body plus attributes) the broker accepts: 256 KiB for SNS; SQS accepts up to 1 MiB.',
  },
  deadLetterRetentionSeconds: {
    type: 'integer',
    default: 1209600,
    min: 60,
    max: 1209600,
    description: 'MessageRetentionPeriod of dead-letter queues (default and maximum: 14 days).',
  },
  sdkMaxAttempts: {
    type: 'integer',
    default: 3,
    min: 1,
    max: 20,
    description: 'Attempts the AWS SDK makes for one request before the operation fails.',
  },
  publishTimeoutMs: {
    type: 'integer',
    default: 10000,
    min: 100,
    max: 600000,
    description:
      'How long publish keeps re-sending while SQS/SNS is unreachable (network, 5xx, throttling) before it rejects with a retriable PUBLISH_FAILED.',
  },
  settlementRetryMs: {
    type: 'integer',
    default: 30000,
    min: 0,
    max: 600000,
    description:
      'How long an ack, retry or dead-letter that fails with a transient error (network, throttling, 5xx) is retried before it rejects.',
  },
  requestTimeoutMs: {
    type: 'integer',
    default: 10000,
    min: 1000,
    max: 300000,
    description: 'Timeout of one HTTP request (long polls get waitTimeSeconds on top).',
  },
} as const satisfies OptionSchema;

/** Parsed options of the SQS transport (see {@link sqsOptionSchema}). */
export type SqsTransportOptions = ParsedOptions<typeof sqsOptionSchema>;

/** Raw, unparsed options as a user writes them (all optional; validated by {@link parseSqsOptions}). */
export type SqsTransportOptionsInput = {
  readonly [K in keyof typeof sqsOptionSchema]?: unknown;
};

/**
 * Validate raw options. Throws one `CONFIGURATION_INVALID` error that lists every problem,
 * including cross-option ones (credentials given by halves).
 */
export function parseSqsOptions(raw: Readonly<Record<string, unknown>>): SqsTransportOptions {
  const result = parseOptions(sqsOptionSchema, raw, 'sqs');
  const issues = result.ok ? [] : [...result.issues];
  if (result.ok) {
    const o = result.options;
    if ((o.accessKeyId === undefined) !== (o.secretAccessKey === undefined)) {
      issues.push(
        'sqs.accessKeyId and sqs.secretAccessKey must be given together (or both omitted for the SDK default chain)',
      );
    }
    if (o.sessionToken !== undefined && o.accessKeyId === undefined) {
      issues.push('sqs.sessionToken needs sqs.accessKeyId and sqs.secretAccessKey');
    }
    if (!/^[A-Za-z0-9_-]*$/.test(o.queuePrefix)) {
      issues.push(`sqs.queuePrefix may only contain letters, digits, "-" and "_", got "${o.queuePrefix}"`);
    }
    if (o.queuePrefix.length > 40) {
      issues.push(
        `sqs.queuePrefix must be at most 40 characters (SQS queue names are ≤ 80), got ${String(o.queuePrefix.length)}`,
      );
    }
    if (issues.length === 0) return o;
  }
  throw new OmnibusError(
    ErrorCodes.CONFIGURATION_INVALID,
    `Invalid SQS transport options:\n- ${issues.join('\n- ')}`,
  );
}
