import { readFile } from 'node:fs/promises';
import { parseSubscriptionFilter, type SubscriptionFilter } from './subscription-filter.js';

/** Options of a queue or a subscription (the entities that hold messages). */
export interface EntityOptions {
  /** Peek-lock duration in ms (Service Bus default 60 s; here 30 s unless set). */
  readonly lockDurationMs: number;
  /** Deliveries after which a message is dead-lettered with `MaxDeliveryCountExceeded`. */
  readonly maxDeliveryCount: number;
  /** Whether receivers must use sessions (and senders must set a session id). */
  readonly requiresSession: boolean;
  /** Default time to live in ms; `undefined` means messages never expire by default. */
  readonly defaultTtlMs: number | undefined;
  /** Move expired messages to the dead-letter queue instead of dropping them. */
  readonly deadLetterOnExpiration: boolean;
  /**
   * Subscriptions only: the filter of the subscription's rule; a message is copied to the
   * subscription only when it matches. `undefined`: every message.
   */
  readonly filter: SubscriptionFilter | undefined;
}

/** Entity options as written in the config file or an admin request: every field optional. */
export interface EntityOptionsInput {
  readonly lockDurationMs?: number;
  readonly maxDeliveryCount?: number;
  readonly requiresSession?: boolean;
  readonly defaultTtlMs?: number;
  readonly deadLetterOnExpiration?: boolean;
  /** Subscriptions only: `{ correlationFilter: {...} }` or `{ sqlExpression: "..." }`. */
  readonly filter?: SubscriptionFilter;
}

/** A queue in the config file. */
export interface QueueConfig extends EntityOptionsInput {
  readonly name: string;
}

/** A subscription in the config file. */
export interface SubscriptionConfig extends EntityOptionsInput {
  readonly name: string;
}

/** A topic in the config file. */
export interface TopicConfig {
  readonly name: string;
  readonly subscriptions?: readonly SubscriptionConfig[];
}

/** The JSON config file: `{ "entities": { "queues": [...], "topics": [...] } }`. */
export interface EmulatorConfig {
  readonly entities: {
    readonly queues: readonly QueueConfig[];
    readonly topics: readonly TopicConfig[];
  };
}

/** Defaults applied to every option that is not given. */
export const DEFAULT_ENTITY_OPTIONS: EntityOptions = {
  lockDurationMs: 30_000,
  maxDeliveryCount: 10,
  requiresSession: false,
  defaultTtlMs: undefined,
  deadLetterOnExpiration: false,
  filter: undefined,
};

/** An empty config (no entities). */
export const EMPTY_CONFIG: EmulatorConfig = { entities: { queues: [], topics: [] } };

/** Thrown for an invalid config file or admin request body; lists every problem. */
export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid emulator config: ${problems.join('; ')}`);
    this.name = 'ConfigError';
  }
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,259}$/;

/** Whether a queue, topic or subscription name is acceptable (no slashes or `$`). */
export function isValidEntityName(name: string): boolean {
  return NAME_PATTERN.test(name);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Validates entity options from untrusted JSON and fills the defaults.
 * Collects problems into `problems` (prefixed with `where`) rather than throwing.
 * `filter` is accepted for subscriptions only.
 */
export function parseEntityOptions(
  value: unknown,
  where: string,
  problems: string[],
  kind: 'queue' | 'subscription' = 'queue',
): EntityOptions {
  if (value === undefined || value === null) return DEFAULT_ENTITY_OPTIONS;
  if (!isRecord(value)) {
    problems.push(`${where}: options must be an object`);
    return DEFAULT_ENTITY_OPTIONS;
  }
  const positiveInt = (key: string, fallback: number | undefined): number | undefined => {
    const v = value[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) {
      problems.push(`${where}.${key} must be a positive integer`);
      return fallback;
    }
    return v;
  };
  const bool = (key: string, fallback: boolean): boolean => {
    const v = value[key];
    if (v === undefined) return fallback;
    if (typeof v !== 'boolean') {
      problems.push(`${where}.${key} must be a boolean`);
      return fallback;
    }
    return v;
  };
  return {
    lockDurationMs:
      positiveInt('lockDurationMs', DEFAULT_ENTITY_OPTIONS.lockDurationMs) ??
      DEFAULT_ENTITY_OPTIONS.lockDurationMs,
    maxDeliveryCount:
      positiveInt('maxDeliveryCount', DEFAULT_ENTITY_OPTIONS.maxDeliveryCount) ??
      DEFAULT_ENTITY_OPTIONS.maxDeliveryCount,
    requiresSession: bool('requiresSession', DEFAULT_ENTITY_OPTIONS.requiresSession),
    defaultTtlMs: positiveInt('defaultTtlMs', undefined),
    deadLetterOnExpiration: bool('deadLetterOnExpiration', DEFAULT_ENTITY_OPTIONS.deadLetterOnExpiration),
    filter: subscriptionFilter(value['filter'], `${where}.filter`, problems, kind),
  };
}

function subscriptionFilter(
  value: unknown,
  where: string,
  problems: string[],
  kind: 'queue' | 'subscription',
): SubscriptionFilter | undefined {
  if (value === undefined || value === null) return undefined;
  if (kind !== 'subscription') {
    problems.push(`${where}: only subscriptions have filters`);
    return undefined;
  }
  return parseSubscriptionFilter(value, where, problems);
}

/** A validated config: names checked, options defaulted. */
export interface ResolvedConfig {
  readonly queues: ReadonlyArray<{ readonly name: string; readonly options: EntityOptions }>;
  readonly topics: ReadonlyArray<{
    readonly name: string;
    readonly subscriptions: ReadonlyArray<{ readonly name: string; readonly options: EntityOptions }>;
  }>;
}

/** Validates a parsed config file. Throws {@link ConfigError} listing every problem. */
export function resolveConfig(raw: unknown): ResolvedConfig {
  const problems: string[] = [];
  const queues: Array<{ name: string; options: EntityOptions }> = [];
  const topics: Array<{ name: string; subscriptions: Array<{ name: string; options: EntityOptions }> }> = [];
  if (!isRecord(raw) || !isRecord(raw['entities'])) {
    throw new ConfigError(['the config must be an object with an "entities" object']);
  }
  const entities = raw['entities'];
  const queueList = entities['queues'] ?? [];
  const topicList = entities['topics'] ?? [];
  if (!Array.isArray(queueList)) problems.push('entities.queues must be an array');
  if (!Array.isArray(topicList)) problems.push('entities.topics must be an array');
  (Array.isArray(queueList) ? queueList : []).forEach((q: unknown, i) => {
    const where = `entities.queues[${i}]`;
    if (!isRecord(q) || typeof q['name'] !== 'string' || !isValidEntityName(q['name'])) {
      problems.push(`${where}.name must be a valid entity name`);
      return;
    }
    queues.push({ name: q['name'], options: parseEntityOptions(q, where, problems) });
  });
  (Array.isArray(topicList) ? topicList : []).forEach((t: unknown, i) => {
    const where = `entities.topics[${i}]`;
    if (!isRecord(t) || typeof t['name'] !== 'string' || !isValidEntityName(t['name'])) {
      problems.push(`${where}.name must be a valid entity name`);
      return;
    }
    const subs = t['subscriptions'] ?? [];
    if (!Array.isArray(subs)) {
      problems.push(`${where}.subscriptions must be an array`);
      return;
    }
    const subscriptions: Array<{ name: string; options: EntityOptions }> = [];
    subs.forEach((s: unknown, j) => {
      const subWhere = `${where}.subscriptions[${j}]`;
      if (!isRecord(s) || typeof s['name'] !== 'string' || !isValidEntityName(s['name'])) {
        problems.push(`${subWhere}.name must be a valid entity name`);
        return;
      }
      subscriptions.push({
        name: s['name'],
        options: parseEntityOptions(s, subWhere, problems, 'subscription'),
      });
    });
    topics.push({ name: t['name'], subscriptions });
  });
  if (problems.length > 0) throw new ConfigError(problems);
  return { queues, topics };
}

/** Reads and validates a JSON config file. */
export async function loadConfigFile(path: string): Promise<ResolvedConfig> {
  const text = await readFile(path, 'utf8');
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ConfigError([`${path} is not valid JSON: ${(error as Error).message}`]);
  }
  return resolveConfig(raw);
}
