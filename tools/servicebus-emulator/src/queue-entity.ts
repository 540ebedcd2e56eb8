import type { EncodedMessage } from './amqp-message.js';
import type { BrokerMessage } from './broker-message.js';
import type { EntityOptions } from './config.js';
import { MessageStore, type StoreCounts } from './message-store.js';
import { compileFilter, type FilterMatcher, type FilterView } from './subscription-filter.js';
import type { SnapshotMessage } from './store-snapshot.js';

/** Logging and change notification shared by all entities. */
export interface EntityEvents {
  readonly changed: () => void;
  readonly log: (event: string) => void;
}

/** A queue or subscription in a snapshot file. */
export interface QueueSnapshot {
  name: string;
  options: EntityOptions;
  nextSeq: number;
  messages: SnapshotMessage[];
  deadLetter: SnapshotMessage[];
  sessionStates: Array<{ id: string; state: string }>;
}

/** Counts returned by the admin API. */
export interface QueueCounts extends StoreCounts {
  deadLetter: number;
}

/**
 * A queue, or a topic subscription (which behaves as a queue fed by its topic): the main store,
 * its `$DeadLetterQueue` sub-queue, and the (always empty) `$Transfer/$DeadLetterQueue`.
 */
export class QueueEntity {
  readonly main: MessageStore;
  readonly deadLetterQueue: MessageStore;
  readonly transferDeadLetterQueue: MessageStore;
  private nextSeq = 1;
  private matcher: FilterMatcher;

  constructor(
    /** Entity path: `queue` or `topic/Subscriptions/sub`. */
    readonly path: string,
    private currentOptions: EntityOptions,
    private readonly events: EntityEvents,
  ) {
    this.matcher = compileFilter(currentOptions.filter);
    const opts = (): EntityOptions => this.currentOptions;
    this.main = new MessageStore(path, opts, currentOptions.requiresSession, {
      deadLetter: (m, reason, description) => this.moveToDeadLetter(m, reason, description),
      changed: events.changed,
      log: events.log,
    });
    const subQueueHooks = { deadLetter: undefined, changed: events.changed, log: events.log };
    this.deadLetterQueue = new MessageStore(`${path}/$DeadLetterQueue`, opts, false, subQueueHooks);
    this.transferDeadLetterQueue = new MessageStore(
      `${path}/$Transfer/$DeadLetterQueue`,
      opts,
      false,
      subQueueHooks,
    );
  }

  /** Current options. */
  get options(): EntityOptions {
    return this.currentOptions;
  }

  /**
   * Replaces options that are safe to change at runtime (lock duration, max delivery count, TTL,
   * the rule's filter).
   * `requiresSession` is fixed at creation, as in Service Bus.
   */
  updateOptions(options: EntityOptions): void {
    this.matcher = compileFilter(options.filter);
    this.currentOptions = { ...options, requiresSession: this.currentOptions.requiresSession };
    this.events.changed();
  }

  /** Whether the subscription's rule takes this message (always true without a filter). */
  accepts(view: FilterView): boolean {
    return this.matcher(view);
  }

  /** Whether a filter is set (the topic then decodes messages for it). */
  get filtered(): boolean {
    return this.currentOptions.filter !== undefined;
  }

  /** Accepts a sent message; returns its sequence number. */
  send(message: EncodedMessage): number {
    const seq = this.nextSeq++;
    this.main.enqueue(message, seq);
    return seq;
  }

  /** Schedules a message for a time (`$management` schedule-message); returns its sequence number. */
  schedule(message: EncodedMessage, at: number): number {
    const seq = this.nextSeq++;
    this.main.enqueue({ ...message, fields: { ...message.fields, scheduledEnqueueTimeMs: at } }, seq);
    return seq;
  }

  private moveToDeadLetter(m: BrokerMessage, reason: string, description: string): void {
    const extra = { ...(m.extraProperties ?? {}) };
    extra['DeadLetterReason'] = reason;
    extra['DeadLetterErrorDescription'] = description;
    this.deadLetterQueue.insertDeadLettered({ ...m, extraProperties: extra });
    this.events.log(`dead-lettered seq=${m.seq} from ${this.path}: ${reason}`);
  }

  /** Counts for the admin API. */
  counts(): QueueCounts {
    return { ...this.main.counts(), deadLetter: this.deadLetterQueue.size };
  }

  /** Expires messages whose time to live has passed. */
  sweep(now: number): void {
    this.main.sweepExpired(now);
  }

  /** Snapshot of everything this entity holds (locks released, delivery counts kept). */
  snapshot(name: string): QueueSnapshot {
    return {
      name,
      options: this.currentOptions,
      nextSeq: this.nextSeq,
      messages: this.main.snapshot(),
      deadLetter: this.deadLetterQueue.snapshot(),
      sessionStates: this.main.sessions?.snapshotStates() ?? [],
    };
  }

  /** Loads a snapshot into this (empty) entity. */
  restore(snapshot: QueueSnapshot): void {
    this.main.restore(snapshot.messages);
    this.deadLetterQueue.restore(snapshot.deadLetter);
    this.main.sessions?.restoreStates(snapshot.sessionStates);
    this.nextSeq = Math.max(snapshot.nextSeq, this.main.maxSeq() + 1, this.deadLetterQueue.maxSeq() + 1);
  }

  /** Stops timers; receive links are detached by the AMQP server. */
  close(): void {
    this.main.close();
    this.deadLetterQueue.close();
    this.transferDeadLetterQueue.close();
  }
}
