import { createHash } from 'node:crypto';

/** Longest legal Kafka topic name. */
const MAX_TOPIC_LENGTH = 249;

/** Settings that decide every topic name and group id. */
export interface KafkaNamingOptions {
  readonly topicPrefix: string;
  readonly groupIdPrefix: string;
}

/**
 * Topic and group naming, all in one place:
 * - main topic: `<prefix><destination>`
 * - delay topic (delayed publish, shared by all groups): `<main>.delay-<tierMs>`
 * - retry topic (per group, unordered handlers): `<main>.<group>.retry-<tierMs>`
 * - dead-letter topic (per group): `<main>.<group>.dlq`
 * - consumer group id: `<groupIdPrefix><group>.<destination>` (one group per destination and group)
 *
 * Characters Kafka does not allow in topic names become `_`; names longer than 249 characters
 * are shortened with a hash suffix. Pure and deterministic.
 */
export class KafkaNaming {
  readonly #options: KafkaNamingOptions;

  constructor(options: KafkaNamingOptions) {
    this.#options = options;
  }

  mainTopic(destination: string): string {
    return topicName(`${this.#options.topicPrefix}${destination}`);
  }

  delayTopic(destination: string, tierMs: number): string {
    return topicName(`${this.#options.topicPrefix}${destination}.delay-${String(tierMs)}`);
  }

  retryTopic(destination: string, group: string, tierMs: number): string {
    return topicName(`${this.#options.topicPrefix}${destination}.${group}.retry-${String(tierMs)}`);
  }

  deadLetterTopic(destination: string, group: string): string {
    return topicName(`${this.#options.topicPrefix}${destination}.${group}.dlq`);
  }

  /**
   * True when `topic` is the dead-letter topic of some group of `destination`: the adapter creates
   * one per group, so its existence says the destination has a group (ADR 0005). A destination
   * whose name extends this one's with a dot can look like a group of it; the record then stays
   * in the topic for groups created later.
   */
  isGroupTopicOf(topic: string, destination: string): boolean {
    const stem = `${this.mainTopic(destination)}.`;
    return topic.length > stem.length + 4 && topic.startsWith(stem) && topic.endsWith('.dlq');
  }

  groupId(destination: string, group: string): string {
    return `${this.#options.groupIdPrefix}${group}.${destination}`;
  }
}

/** A legal topic name for `raw`: illegal characters replaced, long names shortened with a hash. */
export function topicName(raw: string): string {
  const legal = raw.replace(/[^a-zA-Z0-9._-]/g, '_');
  const safe = legal === '.' || legal === '..' ? `_${legal}` : legal;
  if (safe.length <= MAX_TOPIC_LENGTH) return safe;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 16);
  return `${safe.slice(0, MAX_TOPIC_LENGTH - hash.length - 1)}-${hash}`;
}
