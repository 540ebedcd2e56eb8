import { randomBytes } from 'node:crypto';
import type { EncodedMessage, PropertyValue } from './amqp-message.js';
import { entityNotFound, lockLost, messageNotFound, notAllowed, sessionLockLost } from './broker-error.js';
import { encodeForDelivery, sessionIdOf, type BrokerMessage } from './broker-message.js';
import type { EntityOptions } from './config.js';
import { deliveryTagFor, newLockToken, type LockToken } from './lock-token.js';
import { SessionRegistry } from './session-registry.js';
import { SessionWaiters } from './session-waiters.js';
import { fromSnapshotMessage, toSnapshotMessage, type SnapshotMessage } from './store-snapshot.js';

/** A receive link as the store sees it. */
export interface Consumer {
  readonly id: string;
  /** Peek-lock (true) or receive-and-delete (false). */
  readonly peekLock: boolean;
  /** The session this link has locked (session receivers only). */
  readonly sessionId: string | undefined;
  /** Credit the link can still use in this pump. */
  availableCredit(): number;
  /** Sends one message over the link. */
  deliver(encoded: Buffer, tag: Buffer): void;
  /** Called once per pump after deliveries (answers a pending drain). */
  afterPump(): void;
  /** The session lock expired: the link must detach with `session-lock-lost`. */
  sessionLost(sessionId: string): void;
  /** The entity was deleted: the link must detach. */
  entityClosed(): void;
}

/** What a store asks of its owner. */
export interface StoreHooks {
  /** Moves a message to the dead-letter queue; undefined for a dead-letter queue itself. */
  readonly deadLetter: ((m: BrokerMessage, reason: string, description: string) => void) | undefined;
  /** The store changed (for snapshots). */
  readonly changed: () => void;
  /** One-line event log. */
  readonly log: (event: string) => void;
}

/** Per-state counts for the admin API. */
export interface StoreCounts {
  active: number;
  scheduled: number;
  deferred: number;
  locked: number;
}

/** Result of a management receive (receive-by-sequence-number). */
export interface ManagementDelivery {
  readonly encoded: Buffer;
  readonly lockToken: LockToken | undefined;
}

const MAX_TIMER_MS = 2_000_000_000;

/**
 * The messages of one queue, subscription or dead-letter queue: ordering by sequence number,
 * peek-locks and their expiry, delivery counts, deferral, scheduling, time to live, sessions, and
 * handing messages to receive links in proportion to their credit.
 *
 * All methods are synchronous and run on the event loop; deliveries to links happen in a pump
 * scheduled with `setImmediate`, so that rhea has processed earlier sends and link credit is exact.
 */
export class MessageStore {
  private readonly messages = new Map<number, BrokerMessage>();
  private readonly locks = new Map<string, BrokerMessage>();
  private readonly scheduleTimers = new Map<number, NodeJS.Timeout>();
  private readonly consumers: Consumer[] = [];
  private readonly waiters = new SessionWaiters();
  private roundRobin = 0;
  private pumpScheduled = false;
  private closed = false;
  /** Session locks and state; defined only for session-enabled entities. */
  readonly sessions: SessionRegistry | undefined;

  constructor(
    readonly path: string,
    private readonly options: () => EntityOptions,
    readonly sessionful: boolean,
    private readonly hooks: StoreHooks,
  ) {
    this.sessions = sessionful
      ? new SessionRegistry(
          () => this.options().lockDurationMs,
          (sessionId, holderId) => this.sessionExpired(sessionId, holderId),
        )
      : undefined;
  }

  // ---- intake -------------------------------------------------------------------------------

  /** Adds a message sent to the entity; held back while its scheduled enqueue time is ahead. */
  enqueue(message: EncodedMessage, seq: number, now = Date.now()): BrokerMessage {
    if (this.sessionful && message.fields.sessionId === undefined) {
      throw notAllowed(
        `The SessionId was not set on a message, and it cannot be sent to the entity '${this.path}'. Entities that have session support enabled can only receive messages that have the SessionId set to a valid value.`,
      );
    }
    const at = message.fields.scheduledEnqueueTimeMs;
    const m: BrokerMessage = {
      seq,
      message,
      enqueuedAt: now,
      expiresAt: undefined,
      deliveryCount: 0,
      state: 'active',
      scheduledAt: undefined,
      extraProperties: undefined,
      lock: undefined,
    };
    this.messages.set(seq, m);
    if (at !== undefined && at > now) {
      m.state = 'scheduled';
      m.scheduledAt = at;
      this.armSchedule(m);
    } else {
      this.activate(m, now);
    }
    this.hooks.changed();
    return m;
  }

  /** Adds a dead-lettered message (dead-letter stores only); keeps its sequence number. */
  insertDeadLettered(m: BrokerMessage): void {
    const copy: BrokerMessage = {
      ...m,
      state: 'active',
      lock: undefined,
      expiresAt: undefined,
      scheduledAt: undefined,
    };
    this.messages.set(copy.seq, copy);
    this.hooks.changed();
    this.requestPump();
  }

  /** Cancels a scheduled message. Throws `MessageNotFound` when it is not (or no longer) scheduled. */
  cancelScheduled(seq: number): void {
    const m = this.messages.get(seq);
    if (!m || m.state !== 'scheduled') throw messageNotFound(seq);
    this.messages.delete(seq);
    const timer = this.scheduleTimers.get(seq);
    if (timer) clearTimeout(timer);
    this.scheduleTimers.delete(seq);
    this.hooks.changed();
  }

  /** Whether this store holds a message with that sequence number. */
  has(seq: number): boolean {
    return this.messages.has(seq);
  }

  private armSchedule(m: BrokerMessage): void {
    const at = m.scheduledAt ?? Date.now();
    const wait = Math.min(Math.max(0, at - Date.now()), MAX_TIMER_MS);
    const timer = setTimeout(() => {
      this.scheduleTimers.delete(m.seq);
      if (this.messages.get(m.seq) !== m || m.state !== 'scheduled') return;
      if ((m.scheduledAt ?? 0) > Date.now()) {
        this.armSchedule(m);
        return;
      }
      this.activate(m, Date.now());
      this.hooks.log(`scheduled message seq=${m.seq} enqueued on ${this.path}`);
      this.hooks.changed();
    }, wait);
    timer.unref();
    this.scheduleTimers.set(m.seq, timer);
  }

  private activate(m: BrokerMessage, now: number): void {
    m.state = 'active';
    m.enqueuedAt = now;
    const entityTtl = this.options().defaultTtlMs;
    const messageTtl = m.message.fields.ttlMs;
    const ttl =
      entityTtl === undefined
        ? messageTtl
        : messageTtl === undefined
          ? entityTtl
          : Math.min(entityTtl, messageTtl);
    m.expiresAt = ttl === undefined ? undefined : now + ttl;
    this.requestPump();
  }

  // ---- receive links ------------------------------------------------------------------------

  /** Registers a receive link; it gets messages as long as it has credit. */
  addConsumer(consumer: Consumer): void {
    this.consumers.push(consumer);
    this.requestPump();
  }

  /**
   * Unregisters a receive link. Message locks it holds stay until they expire (as in Service
   * Bus); a session it holds is released at once and its locked messages become available again.
   */
  removeConsumer(consumer: Consumer): void {
    const index = this.consumers.indexOf(consumer);
    if (index >= 0) this.consumers.splice(index, 1);
    this.waiters.remove(consumer.id);
    if (
      this.sessions &&
      consumer.sessionId !== undefined &&
      this.sessions.unlock(consumer.sessionId, consumer.id)
    ) {
      this.releaseSessionMessages(consumer.sessionId);
      this.hooks.log(`session '${consumer.sessionId}' released on ${this.path}`);
    }
  }

  /** Asks for a pump on the next turn of the event loop. */
  requestPump(): void {
    if (this.pumpScheduled || this.closed) return;
    this.pumpScheduled = true;
    setImmediate(() => this.pump());
  }

  private pump(): void {
    this.pumpScheduled = false;
    if (this.closed) return;
    const now = Date.now();
    this.serveSessionWaiters();
    let progress = true;
    while (progress && this.consumers.length > 0) {
      progress = false;
      const count = this.consumers.length;
      for (let i = 0; i < count; i++) {
        const consumer = this.consumers[(this.roundRobin + i) % count];
        if (!consumer || consumer.availableCredit() <= 0) continue;
        if (this.sessionful && consumer.sessionId === undefined) continue;
        const m = this.nextAvailable(consumer.sessionId, now);
        if (!m) continue;
        this.handOut(m, consumer, now);
        progress = true;
      }
      this.roundRobin = (this.roundRobin + 1) % Math.max(1, this.consumers.length);
    }
    for (const consumer of [...this.consumers]) consumer.afterPump();
  }

  private isExpired(m: BrokerMessage, now: number): boolean {
    return m.expiresAt !== undefined && m.expiresAt <= now && m.lock === undefined && m.state !== 'scheduled';
  }

  private expire(m: BrokerMessage): void {
    this.messages.delete(m.seq);
    this.hooks.log(`message seq=${m.seq} expired on ${this.path}`);
    if (this.options().deadLetterOnExpiration && this.hooks.deadLetter) {
      this.hooks.deadLetter(m, 'TTLExpiredException', 'The message expired and was dead lettered.');
    }
    this.hooks.changed();
  }

  /** Removes expired messages (called periodically). */
  sweepExpired(now = Date.now()): void {
    for (const m of [...this.messages.values()]) if (this.isExpired(m, now)) this.expire(m);
  }

  private nextAvailable(sessionId: string | undefined, now: number): BrokerMessage | undefined {
    for (const m of this.messages.values()) {
      if (m.state !== 'active' || m.lock !== undefined) continue;
      if (this.sessionful && sessionIdOf(m) !== sessionId) continue;
      if (this.isExpired(m, now)) {
        this.expire(m);
        continue;
      }
      return m;
    }
    return undefined;
  }

  private handOut(m: BrokerMessage, consumer: Consumer, now: number): void {
    const previous = m.deliveryCount;
    m.deliveryCount += 1;
    if (consumer.peekLock) {
      const token = this.lockMessage(m, consumer.id, now);
      consumer.deliver(encodeForDelivery(m, m.lock, previous), deliveryTagFor(token));
    } else {
      this.messages.delete(m.seq);
      consumer.deliver(encodeForDelivery(m, undefined, previous), randomBytes(16));
    }
    this.hooks.changed();
  }

  private lockMessage(m: BrokerMessage, ownerId: string | undefined, now: number): LockToken {
    const token = newLockToken();
    const sessionId = sessionIdOf(m);
    const sessionUntil = this.sessions && sessionId !== undefined ? this.sessions.lockedUntil(sessionId) : 0;
    if (sessionUntil > 0) {
      m.lock = { token, until: sessionUntil, ownerId, timer: undefined };
    } else {
      const duration = this.options().lockDurationMs;
      m.lock = { token, until: now + duration, ownerId, timer: undefined };
      this.armLock(m, duration);
    }
    this.locks.set(token.key, m);
    return token;
  }

  private armLock(m: BrokerMessage, duration: number): void {
    const lock = m.lock;
    if (!lock) return;
    if (lock.timer) clearTimeout(lock.timer);
    lock.timer = setTimeout(() => this.lockExpired(m, lock.token.key), duration);
    lock.timer.unref();
  }

  private lockExpired(m: BrokerMessage, key: string): void {
    if (this.locks.get(key) !== m || !m.lock || m.lock.token.key !== key) return;
    this.locks.delete(key);
    m.lock = undefined;
    this.hooks.log(`lock expired seq=${m.seq} on ${this.path} (deliveryCount=${m.deliveryCount})`);
    this.afterFailedDelivery(m);
  }

  /** After abandon or lock loss: available again, or dead-lettered at the max delivery count. */
  private afterFailedDelivery(m: BrokerMessage): void {
    const max = this.options().maxDeliveryCount;
    if (this.hooks.deadLetter && m.deliveryCount >= max) {
      this.messages.delete(m.seq);
      this.hooks.deadLetter(
        m,
        'MaxDeliveryCountExceeded',
        `Message could not be consumed after ${max} delivery attempts.`,
      );
    }
    this.hooks.changed();
    this.requestPump();
  }

  // ---- sessions -----------------------------------------------------------------------------

  /**
   * Locks a session for a receive link: the given one, or (id undefined) the first session with
   * an available message, waiting up to `timeoutMs` for one to appear.
   */
  acceptSession(sessionId: string | undefined, holderId: string, timeoutMs: number): Promise<string> {
    const sessions = this.sessions;
    if (!sessions) return Promise.reject(notAllowed(`The entity '${this.path}' does not require sessions.`));
    if (sessionId !== undefined) {
      try {
        sessions.lock(sessionId, holderId);
        return Promise.resolve(sessionId);
      } catch (error) {
        return Promise.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
    const available = this.nextUnlockedSession();
    if (available !== undefined) {
      sessions.lock(available, holderId);
      return Promise.resolve(available);
    }
    return this.waiters.wait(holderId, timeoutMs);
  }

  private nextUnlockedSession(): string | undefined {
    const now = Date.now();
    for (const m of this.messages.values()) {
      if (m.state !== 'active' || m.lock !== undefined || this.isExpired(m, now)) continue;
      const sessionId = sessionIdOf(m);
      if (sessionId !== undefined && this.sessions?.holderOf(sessionId) === undefined) return sessionId;
    }
    return undefined;
  }

  private serveSessionWaiters(): void {
    const sessions = this.sessions;
    if (!sessions) return;
    this.waiters.serve(
      () => this.nextUnlockedSession(),
      (sessionId, holderId) => sessions.lock(sessionId, holderId),
    );
  }

  /** Renews a session lock; returns the new expiry. */
  renewSessionLock(sessionId: string): number {
    if (!this.sessions) throw notAllowed(`The entity '${this.path}' does not require sessions.`);
    const until = this.sessions.renew(sessionId);
    for (const m of this.locks.values()) if (sessionIdOf(m) === sessionId && m.lock) m.lock.until = until;
    return until;
  }

  private sessionExpired(sessionId: string, holderId: string): void {
    this.hooks.log(`session lock expired for '${sessionId}' on ${this.path}`);
    this.releaseSessionMessages(sessionId);
    for (const c of this.consumers) if (c.id === holderId) c.sessionLost(sessionId);
  }

  private releaseSessionMessages(sessionId: string): void {
    for (const [key, m] of [...this.locks]) {
      if (sessionIdOf(m) !== sessionId || !m.lock || m.lock.ownerId === undefined) continue;
      this.locks.delete(key);
      m.lock = undefined;
      this.afterFailedDelivery(m);
    }
    this.requestPump();
  }

  // ---- settlement ---------------------------------------------------------------------------

  private takeLock(key: string): BrokerMessage {
    const m = this.locks.get(key);
    if (!m || !m.lock || m.lock.until <= Date.now()) {
      const sessionId = m ? sessionIdOf(m) : undefined;
      throw this.sessionful && sessionId !== undefined ? sessionLockLost(sessionId) : lockLost();
    }
    if (m.lock.timer) clearTimeout(m.lock.timer);
    this.locks.delete(key);
    m.lock = undefined;
    return m;
  }

  /** Whether a lock token is live in this store. */
  holdsLock(key: string): boolean {
    return this.locks.has(key);
  }

  /** Removes a locked message (complete). */
  complete(key: string): void {
    const m = this.takeLock(key);
    this.messages.delete(m.seq);
    this.hooks.changed();
  }

  /** Unlocks a message for redelivery (abandon); dead-letters it at the max delivery count. */
  abandon(key: string, properties?: Record<string, PropertyValue>): void {
    const m = this.takeLock(key);
    applyProperties(m, properties);
    this.afterFailedDelivery(m);
  }

  /** Unlocks a message the client released without processing (does not count as a delivery). */
  release(key: string): void {
    const m = this.takeLock(key);
    m.deliveryCount = Math.max(0, m.deliveryCount - 1);
    this.hooks.changed();
    this.requestPump();
  }

  /** Defers a locked message: it can then only be received by sequence number. */
  defer(key: string, properties?: Record<string, PropertyValue>): void {
    const m = this.takeLock(key);
    applyProperties(m, properties);
    m.state = 'deferred';
    this.hooks.changed();
    this.requestPump();
  }

  /** Moves a locked message to the dead-letter queue with a reason and description. */
  deadLetter(
    key: string,
    reason: string | undefined,
    description: string | undefined,
    properties?: Record<string, PropertyValue>,
  ): void {
    if (!this.hooks.deadLetter) throw notAllowed(`Messages in '${this.path}' cannot be dead-lettered again.`);
    const m = this.takeLock(key);
    applyProperties(m, properties);
    this.messages.delete(m.seq);
    this.hooks.deadLetter(m, reason ?? '', description ?? '');
  }

  /** Extends a message lock by the lock duration; returns the new expiry. */
  renewLock(key: string): number {
    const m = this.locks.get(key);
    if (!m || !m.lock || m.lock.until <= Date.now()) throw lockLost();
    const sessionId = sessionIdOf(m);
    if (this.sessions && sessionId !== undefined && this.sessions.lockedUntil(sessionId) > 0) {
      return this.sessions.lockedUntil(sessionId);
    }
    const duration = this.options().lockDurationMs;
    m.lock.until = Date.now() + duration;
    this.armLock(m, duration);
    return m.lock.until;
  }

  // ---- management reads ---------------------------------------------------------------------

  /** Messages from a sequence number on (active, deferred and scheduled), without locking. */
  peek(fromSeq: number, count: number, sessionId: string | undefined): Buffer[] {
    const now = Date.now();
    const out: Buffer[] = [];
    const sorted = [...this.messages.values()].sort((a, b) => a.seq - b.seq);
    for (const m of sorted) {
      if (out.length >= count) break;
      if (m.seq < fromSeq) continue;
      if (this.isExpired(m, now)) continue;
      if (sessionId !== undefined && sessionIdOf(m) !== sessionId) continue;
      out.push(encodeForDelivery(m, undefined, m.deliveryCount));
    }
    return out;
  }

  /** Receives deferred messages by sequence number (peek-lock locks them; otherwise removes them). */
  receiveDeferred(
    seqs: readonly number[],
    peekLock: boolean,
    sessionId: string | undefined,
  ): ManagementDelivery[] {
    const found = seqs.map((seq) => {
      const m = this.messages.get(seq);
      if (!m || m.state !== 'deferred' || m.lock !== undefined) throw messageNotFound(seq);
      if (sessionId !== undefined && sessionIdOf(m) !== sessionId) throw messageNotFound(seq);
      return m;
    });
    const now = Date.now();
    return found.map((m) => {
      const previous = m.deliveryCount;
      m.deliveryCount += 1;
      this.hooks.changed();
      if (!peekLock) {
        this.messages.delete(m.seq);
        return { encoded: encodeForDelivery(m, undefined, previous), lockToken: undefined };
      }
      const token = this.lockMessage(m, undefined, now);
      return { encoded: encodeForDelivery(m, m.lock, previous), lockToken: token };
    });
  }

  /** Counts per state, for the admin API. */
  counts(): StoreCounts {
    const counts: StoreCounts = { active: 0, scheduled: 0, deferred: 0, locked: 0 };
    for (const m of this.messages.values()) {
      counts[m.state] += 1;
      if (m.lock) counts.locked += 1;
    }
    return counts;
  }

  /** Number of messages held, in every state. */
  get size(): number {
    return this.messages.size;
  }

  // ---- snapshot -----------------------------------------------------------------------------

  /** Every message, with locks dropped and delivery counts kept. */
  snapshot(): SnapshotMessage[] {
    return [...this.messages.values()].map(toSnapshotMessage);
  }

  /** Loads messages from a snapshot. */
  restore(messages: readonly SnapshotMessage[]): void {
    for (const s of [...messages].sort((a, b) => a.seq - b.seq)) {
      const m = fromSnapshotMessage(s);
      this.messages.set(m.seq, m);
      if (m.state === 'scheduled') this.armSchedule(m);
    }
    this.requestPump();
  }

  /** Highest sequence number held (0 when empty). */
  maxSeq(): number {
    let max = 0;
    for (const seq of this.messages.keys()) if (seq > max) max = seq;
    return max;
  }

  /** Stops timers and drops receive links (emulator stop or entity deletion). */
  close(): void {
    this.closed = true;
    for (const consumer of [...this.consumers]) consumer.entityClosed();
    for (const t of this.scheduleTimers.values()) clearTimeout(t);
    this.scheduleTimers.clear();
    for (const m of this.locks.values()) if (m.lock?.timer) clearTimeout(m.lock.timer);
    this.waiters.rejectAll(entityNotFound(this.path));
    this.sessions?.close();
  }
}

function applyProperties(m: BrokerMessage, properties: Record<string, PropertyValue> | undefined): void {
  if (!properties) return;
  const entries = Object.entries(properties).filter(
    ([, v]) => v === null || ['string', 'number', 'boolean'].includes(typeof v) || v instanceof Date,
  );
  if (entries.length === 0) return;
  m.extraProperties = { ...(m.extraProperties ?? {}), ...Object.fromEntries(entries) };
}
