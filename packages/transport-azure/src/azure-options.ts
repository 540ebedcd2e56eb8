import { ErrorCodes, OmnibusError, parseOptions } from '@omnibus/core';
import type { OptionSchema, ParsedOptions } from '@omnibus/core';

/** Service Bus standard tier: largest message (body, properties and framing), in bytes. */
export const STANDARD_TIER_MAX_MESSAGE_BYTES = 256 * 1024;

/**
 * Bytes of every message reserved for application properties and AMQP framing. The payload
 * limit the transport declares is `maxMessageSizeBytes − HEADER_ALLOWANCE_BYTES`.
 */
export const HEADER_ALLOWANCE_BYTES = 8 * 1024;

/**
 * Options of the Azure Service Bus transport. Environment variables map as
 * `OMNIBUS_AZURE_<OPTION>`, e.g. `OMNIBUS_AZURE_CONNECTION_STRING`.
 */
export const azureOptionSchema = {
  connectionString: {
    type: 'string',
    required: true,
    secret: true,
    description:
      'Service Bus connection string (Endpoint=sb://…;SharedAccessKeyName=…;SharedAccessKey=…). For a local emulator add UseDevelopmentEmulator=true.',
  },
  provisioning: {
    type: 'string',
    default: 'admin-client',
    oneOf: ['admin-client', 'emulator', 'none'],
    description:
      'How topics and subscriptions are provisioned: admin-client (ServiceBusAdministrationClient, production), emulator (the test emulator HTTP admin API) or none (entities are managed elsewhere).',
  },
  provisionMode: {
    type: 'string',
    default: 'create',
    oneOf: ['create', 'verify'],
    description:
      'With provisioning=admin-client: create missing entities, or only verify that they exist with the expected settings.',
  },
  emulatorAdminUrl: {
    type: 'string',
    default: 'http://127.0.0.1:5674',
    description: 'Base URL of the emulator admin API (provisioning=emulator).',
  },
  prefix: {
    type: 'string',
    default: '',
    description:
      'Prepended to every topic name (e.g. "staging."), to share one namespace between environments.',
  },
  lockDurationMs: {
    type: 'integer',
    default: 30_000,
    min: 5_000,
    max: 300_000,
    description:
      'Peek-lock (or session-lock) duration of subscriptions this transport creates, in ms. Locks are renewed automatically.',
  },
  maxDeliveryCount: {
    type: 'integer',
    default: 10,
    min: 1,
    max: 2000,
    description:
      'Broker-side safety net: after this many deliveries of one copy the broker dead-letters it (MaxDeliveryCountExceeded). Keep it ≥ the largest retry.maxAttempts of ordered handlers.',
  },
  maxMessageSizeBytes: {
    type: 'integer',
    default: STANDARD_TIER_MAX_MESSAGE_BYTES,
    min: 16 * 1024,
    max: 100 * 1024 * 1024,
    description:
      'Largest message the namespace accepts: 262144 on the standard tier, up to 100 MiB on premium.',
  },
  receiver: {
    type: 'string',
    oneOf: ['pull', 'stream'],
    default: 'pull',
    description:
      'How unordered groups receive: pull (a receiveMessages loop asking for as many messages as there are free handler slots) or stream (experimental: the SDK streaming receiver, subscribe with maxConcurrentCalls = concurrency; drains about 3x faster on the emulator, but a dropped connection is not reported as reconnecting).',
  },
  receiveWaitMs: {
    type: 'integer',
    default: 1_000,
    min: 100,
    max: 60_000,
    description:
      'Longest a receive call waits for messages (bounds how quickly a subscription notices close) and how long an ordered worker keeps an idle session.',
  },
  sessionAcceptTimeoutMs: {
    type: 'integer',
    default: 5_000,
    min: 1_000,
    max: 60_000,
    description:
      'Ordered groups: how long each idle worker waits server-side for a session with messages before asking again. Also the operation timeout of the session connection, and the longest close() waits for idle workers.',
  },
  operationTimeoutMs: {
    type: 'integer',
    default: 15_000,
    min: 1_000,
    max: 300_000,
    description:
      'Timeout of each SDK operation attempt (send, settle, link attach). A send in flight when the connection drops waits this long before the SDK retries it on a new connection.',
  },
  maxRetries: {
    type: 'integer',
    default: 3,
    min: 0,
    max: 20,
    description:
      'SDK retries of a failed operation before it rejects (publish re-sends on top, see publishTimeoutMs).',
  },
  publishTimeoutMs: {
    type: 'integer',
    default: 30_000,
    min: 100,
    max: 600_000,
    description:
      'How long publish keeps re-sending while the namespace is unreachable (connection refused or dropped, busy, timeouts) before it rejects with a retriable PUBLISH_FAILED.',
  },
} as const satisfies OptionSchema;

/** Parsed options of the Azure Service Bus transport (see {@link azureOptionSchema}). */
export type AzureServiceBusOptions = ParsedOptions<typeof azureOptionSchema>;

/** What callers may pass: `connectionString` plus any subset of the other options. */
export type AzureServiceBusOptionsInput = Partial<AzureServiceBusOptions> & {
  readonly connectionString: string;
};

/**
 * Validate raw options (object, env or JSON values) and fill defaults. Throws one
 * `CONFIGURATION_INVALID` error listing every problem. Pure; never logs secrets.
 */
export function resolveAzureOptions(raw: Readonly<Record<string, unknown>>): AzureServiceBusOptions {
  const result = parseOptions(azureOptionSchema, raw, 'azure');
  if (!result.ok) {
    throw new OmnibusError(
      ErrorCodes.CONFIGURATION_INVALID,
      `Invalid Azure Service Bus options:\n- ${result.issues.join('\n- ')}`,
    );
  }
  const issues = connectionStringIssues(result.options.connectionString);
  if (
    result.options.provisioning === 'admin-client' &&
    parseConnectionString(result.options.connectionString).get('usedevelopmentemulator')?.toLowerCase() ===
      'true'
  ) {
    issues.push(
      "azure.provisioning is 'admin-client' (the default), but the connection string targets a development emulator (UseDevelopmentEmulator=true), which has no management endpoint: set provisioning: 'emulator' (OMNIBUS_AZURE_PROVISIONING=emulator) for the repository's emulator, or 'none' for Microsoft's emulator with its own Config.json",
    );
  }
  if (issues.length > 0) {
    throw new OmnibusError(
      ErrorCodes.CONFIGURATION_INVALID,
      `Invalid Azure Service Bus options:\n- ${issues.join('\n- ')}`,
    );
  }
  return result.options;
}

/** Problems with a connection string, described without echoing the key. */
function connectionStringIssues(connectionString: string): string[] {
  const parts = parseConnectionString(connectionString);
  const issues: string[] = [];
  const endpoint = parts.get('endpoint');
  if (endpoint === undefined || !/^sb:\/\/[^/\s]+\/?$/i.test(endpoint)) {
    issues.push('azure.connectionString needs Endpoint=sb://<namespace host>[:port]/');
  }
  const hasKey = parts.has('sharedaccesskeyname') && parts.has('sharedaccesskey');
  if (!hasKey && !parts.has('sharedaccesssignature')) {
    issues.push(
      'azure.connectionString needs SharedAccessKeyName and SharedAccessKey (or SharedAccessSignature)',
    );
  }
  return issues;
}

/** Lower-cased key → value pairs of a `Key=Value;…` connection string. */
export function parseConnectionString(connectionString: string): Map<string, string> {
  const parts = new Map<string, string>();
  for (const segment of connectionString.split(';')) {
    const at = segment.indexOf('=');
    if (at <= 0) continue;
    parts.set(segment.slice(0, at).trim().toLowerCase(), segment.slice(at + 1).trim());
  }
  return parts;
}

/** The namespace host (and port) of a connection string, safe to log. */
export function describeEndpoint(connectionString: string): string {
  const endpoint = parseConnectionString(connectionString).get('endpoint') ?? '(no endpoint)';
  return endpoint.replace(/^sb:\/\//i, '').replace(/\/$/, '');
}
