import type { EntityOptions, ResolvedConfig } from './config.js';
import type { MessageStore } from './message-store.js';
import { QueueEntity, type EntityEvents, type QueueSnapshot } from './queue-entity.js';
import { TopicEntity, type TopicSnapshot } from './topic-entity.js';

/** Where a sender's messages go. */
export type SendTarget = QueueEntity | TopicEntity;

/** The snapshot file format. */
export interface EntitySnapshot {
  version: 1;
  savedAt: string;
  queues: QueueSnapshot[];
  topics: TopicSnapshot[];
}

/** An entity path split into its parts. */
export interface ParsedAddress {
  /** Queue or topic name. */
  readonly entity: string;
  /** Subscription name when the address is `<topic>/Subscriptions/<sub>`. */
  readonly subscription: string | undefined;
  readonly subQueue: 'main' | 'deadLetter' | 'transferDeadLetter';
  /** Whether the address ends in `/$management`. */
  readonly management: boolean;
}

/**
 * Parses an AMQP address (`queue`, `topic/Subscriptions/sub`, either with `/$DeadLetterQueue`,
 * `/$Transfer/$DeadLetterQueue` and/or `/$management`; a leading `sb://host/` is ignored).
 */
export function parseAddress(address: string): ParsedAddress | undefined {
  const path = address.replace(/^[a-z]+:\/\/[^/]+\//i, '').replace(/^\/+/, '');
  const parts = path.split('/').filter((p) => p.length > 0);
  let management = false;
  if (parts.length > 0 && parts[parts.length - 1]?.toLowerCase() === '$management') {
    management = true;
    parts.pop();
  }
  let subQueue: ParsedAddress['subQueue'] = 'main';
  const last = parts[parts.length - 1]?.toLowerCase();
  if (last === '$deadletterqueue') {
    parts.pop();
    subQueue = 'deadLetter';
    if (parts[parts.length - 1]?.toLowerCase() === '$transfer') {
      parts.pop();
      subQueue = 'transferDeadLetter';
    }
  }
  const entity = parts[0];
  if (entity === undefined) return undefined;
  if (parts.length === 1) return { entity, subscription: undefined, subQueue, management };
  if (parts.length === 3 && parts[1]?.toLowerCase() === 'subscriptions') {
    return { entity, subscription: parts[2], subQueue, management };
  }
  return undefined;
}

/**
 * Every queue, topic and subscription, looked up by name case-insensitively (as Service Bus
 * does), created from the config file, the admin API or a snapshot.
 */
export class EntityStore {
  private readonly queues = new Map<string, { name: string; entity: QueueEntity }>();
  private readonly topics = new Map<string, TopicEntity>();

  constructor(private readonly events: EntityEvents) {}

  /** Creates every entity of a config (existing ones get the config's options). */
  applyConfig(config: ResolvedConfig): void {
    for (const q of config.queues) this.upsertQueue(q.name, q.options);
    for (const t of config.topics) {
      this.upsertTopic(t.name);
      for (const s of t.subscriptions) this.upsertSubscription(t.name, s.name, s.options);
    }
  }

  /** Queue by name. */
  queue(name: string): QueueEntity | undefined {
    return this.queues.get(name.toLowerCase())?.entity;
  }

  /** Topic by name. */
  topic(name: string): TopicEntity | undefined {
    return this.topics.get(name.toLowerCase());
  }

  /** Creates a queue, or updates an existing one's options. Fails if a topic has the name. */
  upsertQueue(name: string, options: EntityOptions): { entity: QueueEntity; created: boolean } {
    if (this.topic(name)) throw new Error(`a topic named '${name}' exists`);
    const existing = this.queue(name);
    if (existing) {
      existing.updateOptions(options);
      return { entity: existing, created: false };
    }
    const entity = new QueueEntity(name, options, this.events);
    this.queues.set(name.toLowerCase(), { name, entity });
    this.events.changed();
    this.events.log(`queue '${name}' created`);
    return { entity, created: true };
  }

  /** Creates a topic if it does not exist. Fails if a queue has the name. */
  upsertTopic(name: string): { topic: TopicEntity; created: boolean } {
    if (this.queue(name)) throw new Error(`a queue named '${name}' exists`);
    const existing = this.topic(name);
    if (existing) return { topic: existing, created: false };
    const topic = new TopicEntity(name, this.events);
    this.topics.set(name.toLowerCase(), topic);
    this.events.changed();
    this.events.log(`topic '${name}' created`);
    return { topic, created: true };
  }

  /** Creates a subscription (the topic must exist), or updates its options. */
  upsertSubscription(
    topicName: string,
    name: string,
    options: EntityOptions,
  ): { entity: QueueEntity; created: boolean } {
    const topic = this.topic(topicName);
    if (!topic) throw new Error(`topic '${topicName}' does not exist`);
    const result = topic.upsertSubscription(name, options);
    if (result.created) this.events.log(`subscription '${topicName}/Subscriptions/${name}' created`);
    return result;
  }

  /** Deletes a queue and its messages; returns it (so its links can be detached) or undefined. */
  deleteQueue(name: string): QueueEntity | undefined {
    const entity = this.queue(name);
    if (!entity) return undefined;
    this.queues.delete(name.toLowerCase());
    entity.close();
    this.events.changed();
    this.events.log(`queue '${name}' deleted`);
    return entity;
  }

  /** Deletes a topic with its subscriptions. */
  deleteTopic(name: string): TopicEntity | undefined {
    const topic = this.topic(name);
    if (!topic) return undefined;
    this.topics.delete(name.toLowerCase());
    topic.close();
    this.events.changed();
    this.events.log(`topic '${name}' deleted`);
    return topic;
  }

  /** The queue or topic a sender attaches to. */
  resolveSendTarget(address: string): SendTarget | undefined {
    const parsed = parseAddress(address);
    if (!parsed || parsed.management || parsed.subscription !== undefined || parsed.subQueue !== 'main')
      return undefined;
    return this.queue(parsed.entity) ?? this.topic(parsed.entity);
  }

  /** The queue or subscription (and sub-queue) behind an address. */
  resolveStore(parsed: ParsedAddress): { entity: QueueEntity; store: MessageStore } | undefined {
    const entity =
      parsed.subscription === undefined
        ? this.queue(parsed.entity)
        : this.topic(parsed.entity)?.subscription(parsed.subscription);
    if (!entity) return undefined;
    const store =
      parsed.subQueue === 'deadLetter'
        ? entity.deadLetterQueue
        : parsed.subQueue === 'transferDeadLetter'
          ? entity.transferDeadLetterQueue
          : entity.main;
    return { entity, store };
  }

  /** The store a receiver attaches to. */
  resolveSource(address: string): { entity: QueueEntity; store: MessageStore } | undefined {
    const parsed = parseAddress(address);
    if (!parsed || parsed.management) return undefined;
    return this.resolveStore(parsed);
  }

  /** Expires messages everywhere. */
  sweep(now = Date.now()): void {
    for (const { entity } of this.queues.values()) entity.sweep(now);
    for (const topic of this.topics.values()) topic.sweep(now);
  }

  /** Every entity and message. */
  snapshot(): EntitySnapshot {
    return {
      version: 1,
      savedAt: new Date().toISOString(),
      queues: [...this.queues.values()].map(({ name, entity }) => entity.snapshot(name)),
      topics: [...this.topics.values()].map((t) => t.snapshot()),
    };
  }

  /** Loads a snapshot: creates its entities and restores their messages. */
  restore(snapshot: EntitySnapshot): void {
    for (const q of snapshot.queues) {
      const { entity } = this.upsertQueue(q.name, q.options);
      entity.restore(q);
    }
    for (const t of snapshot.topics) {
      const { topic } = this.upsertTopic(t.name);
      topic.restore(t);
    }
  }

  /** Names and options for listing. */
  list(): { queues: string[]; topics: Array<{ name: string; subscriptions: string[] }> } {
    return {
      queues: [...this.queues.values()].map((q) => q.name),
      topics: [...this.topics.values()].map((t) => ({ name: t.name, subscriptions: t.subscriptionNames() })),
    };
  }

  /** Stops every timer. */
  close(): void {
    for (const { entity } of this.queues.values()) entity.close();
    for (const topic of this.topics.values()) topic.close();
  }
}
