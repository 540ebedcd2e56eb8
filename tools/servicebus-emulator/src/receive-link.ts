import { randomUUID } from 'node:crypto';
import type { EventContext, Sender } from 'rhea';
import type { PropertyValue } from './amqp-message.js';
import { BrokerError, Conditions, entityNotFound, toBrokerError } from './broker-error.js';
import { reorderGuidBytes, uuidString } from './lock-token.js';
import type { Consumer, MessageStore } from './message-store.js';
import {
  acceptedOutcome,
  answerDrain,
  linkCredit,
  patchDrain,
  rejectedOutcome,
  settleOutgoing,
} from './rhea-compat.js';

interface OutcomeState {
  readonly undeliverable_here?: boolean;
  readonly delivery_failed?: boolean;
  readonly message_annotations?: Record<string, PropertyValue>;
  readonly error?: { condition?: string; description?: string; info?: Record<string, unknown> };
}

/**
 * The server end of a client's receive link: hands out messages within the link credit, answers
 * drain requests, and turns the client's dispositions into settlements.
 *
 * | client outcome | meaning in Service Bus | store action |
 * | --- | --- | --- |
 * | accepted | complete | remove |
 * | modified, undeliverable_here=false | abandon | unlock, count the delivery |
 * | modified, undeliverable_here=true | defer | keep for receive-by-sequence-number |
 * | rejected with `com.microsoft:dead-letter` | dead-letter | move to `$DeadLetterQueue` |
 * | released | not processed | unlock, do not count |
 *
 * Every disposition is answered with a settled `accepted`, or a settled `rejected` carrying
 * `message-lock-lost` / `session-lock-lost` when the lock is gone.
 */
export class ReceiveLink implements Consumer {
  readonly id = randomUUID();
  readonly peekLock: boolean;
  sessionId: string | undefined;
  private pendingSends = 0;
  private drainRequested = false;
  private active = false;
  private closed = false;

  constructor(
    readonly sender: Sender,
    private readonly store: MessageStore,
    private readonly log: (event: string) => void,
  ) {
    // snd_settle_mode 1 (settled) is how the SDK asks for receive-and-delete.
    this.peekLock = sender.snd_settle_mode !== 1;
    patchDrain(sender);
    sender.on('sender_flow', () => this.store.requestPump());
    sender.on('sender_draining', () => {
      this.drainRequested = true;
      this.store.requestPump();
    });
    sender.on('accepted', (ctx: EventContext) => this.settle(ctx, (key) => this.store.complete(key)));
    sender.on('released', (ctx: EventContext) => this.settle(ctx, (key) => this.store.release(key)));
    sender.on('modified', (ctx: EventContext) => {
      const state = (ctx.delivery?.remote_state ?? {}) as OutcomeState;
      const properties = state.message_annotations;
      if (state.undeliverable_here === true) this.settle(ctx, (key) => this.store.defer(key, properties));
      else this.settle(ctx, (key) => this.store.abandon(key, properties));
    });
    sender.on('rejected', (ctx: EventContext) => {
      const state = (ctx.delivery?.remote_state ?? {}) as OutcomeState;
      const info = { ...(state.error?.info ?? {}) };
      const reason = typeof info['DeadLetterReason'] === 'string' ? info['DeadLetterReason'] : undefined;
      const description =
        typeof info['DeadLetterErrorDescription'] === 'string'
          ? info['DeadLetterErrorDescription']
          : state.error?.description;
      delete info['DeadLetterReason'];
      delete info['DeadLetterErrorDescription'];
      this.settle(ctx, (key) =>
        this.store.deadLetter(key, reason, description, info as Record<string, PropertyValue>),
      );
    });
    sender.on('sender_close', () => this.detached());
    sender.on('sender_error', () => undefined);
  }

  /** Starts receiving: registers with the store. */
  activate(): void {
    if (this.active || this.closed) return;
    this.active = true;
    this.store.addConsumer(this);
  }

  /** Path of the store this link reads from. */
  get path(): string {
    return this.store.path;
  }

  availableCredit(): number {
    if (!this.active || this.closed || !this.sender.is_open()) return 0;
    return linkCredit(this.sender) - this.pendingSends;
  }

  deliver(encoded: Buffer, tag: Buffer): void {
    this.sender.send(encoded, tag, 0);
    if (this.pendingSends === 0) {
      // rhea writes queued transfers (and lowers the credit) on the next tick.
      process.nextTick(() => {
        this.pendingSends = 0;
      });
    }
    this.pendingSends += 1;
  }

  afterPump(): void {
    if (!this.drainRequested || this.closed) return;
    this.drainRequested = false;
    answerDrain(this.sender);
  }

  sessionLost(sessionId: string): void {
    this.closeWith(
      new BrokerError(
        Conditions.sessionLockLost,
        `The session lock has expired on the session with id ${sessionId}.`,
        410,
      ),
    );
  }

  /** The entity was deleted. */
  entityClosed(): void {
    this.closeWith(entityNotFound(this.store.path));
  }

  /** Closes the link with an error and stops receiving. */
  closeWith(error: BrokerError): void {
    if (this.closed) return;
    this.detached();
    this.sender.close({ condition: error.condition, description: error.message });
  }

  /** The link or its connection is gone. */
  detached(): void {
    if (this.closed) return;
    this.closed = true;
    // Also drops a pending "accept next session" wait and releases a locked session.
    this.store.removeConsumer(this);
    this.active = false;
  }

  private settle(ctx: EventContext, action: (lockKey: string) => void): void {
    const delivery = ctx.delivery;
    if (!delivery) return;
    const tag = typeof delivery.tag === 'string' ? Buffer.from(delivery.tag) : delivery.tag;
    try {
      if (tag.length !== 16) throw new BrokerError(Conditions.lockLost, 'unknown delivery', 410);
      action(uuidString(reorderGuidBytes(tag)));
      settleOutgoing(delivery, acceptedOutcome());
    } catch (error) {
      const e = toBrokerError(error);
      if (e.condition === Conditions.internal)
        this.log(`settlement failed on ${this.store.path}: ${e.message}`);
      settleOutgoing(delivery, rejectedOutcome(e.condition, e.message));
    }
  }
}
