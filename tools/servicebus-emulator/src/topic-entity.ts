import { fromEncoded, type EncodedMessage } from './amqp-message.js';
import { messageNotFound } from './broker-error.js';
import type { EntityOptions } from './config.js';
import { QueueEntity, type EntityEvents, type QueueSnapshot } from './queue-entity.js';
import { filterViewOf, type FilterView } from './subscription-filter.js';

interface ScheduledOnTopic {
  readonly seq: number;
  readonly message: EncodedMessage;
  readonly at: number;
  timer: NodeJS.Timeout | undefined;
}

/** A topic in a snapshot file. */
export interface TopicSnapshot {
  name: string;
  nextSeq: number;
  scheduled: Array<{ seq: number; raw: string; at: number }>;
  subscriptions: QueueSnapshot[];
}

const MAX_TIMER_MS = 2_000_000_000;

/**
 * A topic: every message sent to it is copied to each subscription whose rule accepts it (a
 * subscription without a filter takes everything). Filters are evaluated when the message is
 * copied, so a scheduled message is filtered when it becomes due. Scheduled messages wait on the
 * topic and are copied when they become due, so that a single sequence number can cancel them.
 */
export class TopicEntity {
  private readonly subscriptions = new Map<string, { name: string; entity: QueueEntity }>();
  private readonly scheduled = new Map<number, ScheduledOnTopic>();
  private nextSeq = 1;

  constructor(
    readonly name: string,
    private readonly events: EntityEvents,
  ) {}

  /** Subscription by name (case-insensitive). */
  subscription(name: string): QueueEntity | undefined {
    return this.subscriptions.get(name.toLowerCase())?.entity;
  }

  /** Subscription names as created. */
  subscriptionNames(): string[] {
    return [...this.subscriptions.values()].map((s) => s.name);
  }

  /** Creates a subscription, or updates the options of an existing one. Idempotent. */
  upsertSubscription(name: string, options: EntityOptions): { entity: QueueEntity; created: boolean } {
    const existing = this.subscriptions.get(name.toLowerCase());
    if (existing) {
      existing.entity.updateOptions(options);
      return { entity: existing.entity, created: false };
    }
    const entity = new QueueEntity(`${this.name}/Subscriptions/${name}`, options, this.events);
    this.subscriptions.set(name.toLowerCase(), { name, entity });
    this.events.changed();
    return { entity, created: true };
  }

  /** Deletes a subscription and its messages. */
  deleteSubscription(name: string): QueueEntity | undefined {
    const existing = this.subscriptions.get(name.toLowerCase());
    if (!existing) return undefined;
    this.subscriptions.delete(name.toLowerCase());
    existing.entity.close();
    this.events.changed();
    return existing.entity;
  }

  /** Copies a message to every subscription; held on the topic while scheduled in the future. */
  send(message: EncodedMessage): number {
    const seq = this.nextSeq++;
    const at = message.fields.scheduledEnqueueTimeMs;
    if (at !== undefined && at > Date.now()) {
      this.holdScheduled({ seq, message, at, timer: undefined });
    } else {
      this.fanOut(message);
    }
    return seq;
  }

  /** Schedules a message for a time (`$management` schedule-message); returns its sequence number. */
  schedule(message: EncodedMessage, at: number): number {
    const seq = this.nextSeq++;
    this.holdScheduled({ seq, message, at, timer: undefined });
    return seq;
  }

  /** Cancels a scheduled message by the sequence number schedule returned. */
  cancelScheduled(seq: number): void {
    const entry = this.scheduled.get(seq);
    if (!entry) throw messageNotFound(seq);
    if (entry.timer) clearTimeout(entry.timer);
    this.scheduled.delete(seq);
    this.events.changed();
  }

  private holdScheduled(entry: ScheduledOnTopic): void {
    this.scheduled.set(entry.seq, entry);
    this.arm(entry);
    this.events.changed();
  }

  private arm(entry: ScheduledOnTopic): void {
    const wait = Math.min(Math.max(0, entry.at - Date.now()), MAX_TIMER_MS);
    entry.timer = setTimeout(() => {
      if (this.scheduled.get(entry.seq) !== entry) return;
      if (entry.at > Date.now()) {
        this.arm(entry);
        return;
      }
      this.scheduled.delete(entry.seq);
      this.fanOut({
        ...entry.message,
        fields: { ...entry.message.fields, scheduledEnqueueTimeMs: undefined },
      });
      this.events.log(`scheduled message seq=${entry.seq} published on topic ${this.name}`);
    }, wait);
    entry.timer.unref();
  }

  private fanOut(message: EncodedMessage): void {
    let view: FilterView | undefined;
    for (const { entity } of this.subscriptions.values()) {
      if (entity.filtered) {
        view ??= filterViewOf(message);
        if (!entity.accepts(view)) {
          this.events.log(`filtered out of ${entity.path}: message ${message.fields.messageId ?? '?'}`);
          continue;
        }
      }
      if (entity.options.requiresSession && message.fields.sessionId === undefined) {
        this.events.log(
          `skipped subscription ${entity.path}: it requires sessions and the message has no session id`,
        );
        continue;
      }
      entity.send(message);
    }
    this.events.changed();
  }

  /** Number of messages scheduled on the topic itself. */
  scheduledCount(): number {
    return this.scheduled.size;
  }

  /** Expires messages in every subscription. */
  sweep(now: number): void {
    for (const { entity } of this.subscriptions.values()) entity.sweep(now);
  }

  /** Snapshot of the topic, its scheduled messages and its subscriptions. */
  snapshot(): TopicSnapshot {
    return {
      name: this.name,
      nextSeq: this.nextSeq,
      scheduled: [...this.scheduled.values()].map((e) => ({
        seq: e.seq,
        raw: e.message.raw.toString('base64'),
        at: e.at,
      })),
      subscriptions: [...this.subscriptions.values()].map(({ name, entity }) => entity.snapshot(name)),
    };
  }

  /** Loads a snapshot into this topic (subscriptions are created as needed). */
  restore(snapshot: TopicSnapshot): void {
    this.nextSeq = Math.max(this.nextSeq, snapshot.nextSeq);
    for (const s of snapshot.scheduled) {
      this.holdScheduled({
        seq: s.seq,
        message: fromEncoded(Buffer.from(s.raw, 'base64')),
        at: s.at,
        timer: undefined,
      });
    }
    for (const sub of snapshot.subscriptions) {
      const { entity } = this.upsertSubscription(sub.name, sub.options);
      entity.restore(sub);
    }
  }

  /** Stops timers of the topic and its subscriptions. */
  close(): void {
    for (const e of this.scheduled.values()) if (e.timer) clearTimeout(e.timer);
    for (const { entity } of this.subscriptions.values()) entity.close();
  }
}
