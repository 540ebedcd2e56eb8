import { ReceiveMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import {
  envelopeFromWire,
  KeyedDispatcher,
  type DeliveryHandler,
  type Subscription,
  type SubscriptionSpec,
} from '@omnibus/core';
import { SettleOnceDelivery, sleep } from '@omnibus/core/adapter-kit';
import { FifoFence } from './fifo-fence.js';
import type { DeadLetterMemory } from './dead-letter-memory.js';
import type { ReleaseLedger } from './release-ledger.js';
import type { SqsDelivery } from './sqs-delivery.js';
import { isAbort } from './sqs-error-mapper.js';
import { decodeWireMessage } from './sqs-message-codec.js';
import type { SqsTransportOptions } from './sqs-options.js';
import { SqsSettler, type SettlerTarget } from './sqs-settler.js';
import { VisibilityHeartbeat } from './visibility-heartbeat.js';

/** Options a subscription reads. */
export type SubscriptionOptions = Pick<
  SqsTransportOptions,
  'visibilityTimeoutSeconds' | 'waitTimeSeconds' | 'maxPollers' | 'receiveBatchSize'
>;

/** Health callbacks, so the transport can report `reconnecting`/`ready`. */
export interface SubscriptionHealth {
  onReceiveError(error: unknown): void;
  onReceiveOk(): void;
}

/** How long past its wait time a long poll may take before close aborts it. */
const POLL_GRACE_MS = 3000;

const SYSTEM_ATTRIBUTES = [
  'ApproximateReceiveCount',
  'SentTimestamp',
  'MessageGroupId',
  'MessageDeduplicationId',
] as const;

/**
 * One subscription on one SQS queue: `min(concurrency, maxPollers)` long-poll loops, each
 * asking only for as many messages as the concurrency limit has room for (≤ 10); a
 * {@link KeyedDispatcher} runs handlers (per-key order when ordered); a heartbeat extends
 * visibility of everything held; close stops intake, releases unstarted messages (visibility 0),
 * drains running handlers up to the bound, and releases what is still unsettled.
 */
export class SqsSubscription implements Subscription {
  readonly #sqs: SQSClient;
  readonly #spec: SubscriptionSpec;
  readonly #options: SubscriptionOptions;
  readonly #target: SettlerTarget;
  readonly #onDelivery: DeliveryHandler;
  readonly #health: SubscriptionHealth;
  readonly #ledger: ReleaseLedger;
  readonly #deadLettered: DeadLetterMemory | undefined;
  readonly #dispatcher: KeyedDispatcher<SqsDelivery>;
  readonly #settler: SqsSettler;
  readonly #heartbeat: VisibilityHeartbeat;
  readonly #fence: FifoFence | undefined;
  readonly #held = new Set<SqsDelivery>();
  readonly #abort = new AbortController();
  #pollers: Promise<void>[] = [];
  #reserved = 0;
  #sequence = 0;
  #wakeSlot: (() => void)[] = [];
  #stopping = false;
  #closing: Promise<void> | undefined;

  constructor(deps: {
    sqs: SQSClient;
    spec: SubscriptionSpec;
    options: SubscriptionOptions;
    target: SettlerTarget;
    onDelivery: DeliveryHandler;
    health: SubscriptionHealth;
    ledger: ReleaseLedger;
    /** Messages this transport dead-lettered (one dead-letter copy per message, see DeadLetterMemory). */
    deadLettered?: DeadLetterMemory;
  }) {
    this.#sqs = deps.sqs;
    this.#spec = deps.spec;
    this.#options = deps.options;
    this.#target = deps.target;
    this.#onDelivery = deps.onDelivery;
    this.#health = deps.health;
    this.#ledger = deps.ledger;
    this.#deadLettered = deps.deadLettered;
    this.#fence = deps.target.fifo && deps.spec.ordered ? new FifoFence() : undefined;
    this.#settler = new SqsSettler(deps.sqs, deps.spec, deps.target, {
      onRetried: (d) => this.#fence?.retried(d.native.key, d.native.sequence, this.#sequence),
      onRemoved: (d) => this.#ledger.forget(d.native.ledgerKey),
      onDeadLettered: (d) => this.#deadLettered?.add(d.native.ledgerKey),
    });
    this.#dispatcher = new KeyedDispatcher<SqsDelivery>({
      concurrency: deps.spec.concurrency,
      ordered: deps.spec.ordered,
      run: (d) => this.#run(d),
    });
    this.#heartbeat = new VisibilityHeartbeat({
      visibilitySeconds: deps.options.visibilityTimeoutSeconds,
      held: () => this.#held,
      extend: (ds, seconds) => this.#settler.changeVisibility(ds, seconds),
    });
  }

  /** Start polling. */
  start(): void {
    this.#heartbeat.start();
    const pollers = Math.max(1, Math.min(this.#options.maxPollers, this.#spec.concurrency));
    for (let i = 0; i < pollers; i += 1) this.#pollers.push(this.#poll());
  }

  /** See {@link Subscription.close}. Idempotent; concurrent calls share one close. */
  close(drainTimeoutMs: number): Promise<void> {
    this.#closing ??= this.#close(drainTimeoutMs);
    return this.#closing;
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    const started = Date.now();
    this.#stopping = true;
    this.#notifySlot();
    const releasing = this.#release(this.#dispatcher.stop(), true);
    const pollersDone = Promise.all(this.#pollers);
    await this.#dispatcher.drain(Math.max(0, drainTimeoutMs));
    // A long poll in flight is waited out, not aborted: SQS (and ElasticMQ) keep an aborted poll
    // open server-side, and a message arriving meanwhile would be hidden for a whole visibility
    // timeout. Its messages are released as they arrive. Only a poll that outlives its wait by
    // far (a dead connection) is aborted.
    const pollDeadline = started + this.#options.waitTimeSeconds * 1000 + POLL_GRACE_MS;
    // The deadline timer is cancelled once the polls return, so it never holds the process.
    const deadline = new AbortController();
    await Promise.race([pollersDone, sleep(Math.max(0, pollDeadline - Date.now()), deadline.signal)]);
    deadline.abort();
    this.#abort.abort();
    await pollersDone;
    this.#heartbeat.stop();
    await releasing;
    await this.#release([...this.#held], false);
  }

  async #poll(): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      await this.#dispatcher.waitForCapacity();
      if (this.#stopping) break;
      const want = Math.min(this.#options.receiveBatchSize, this.#dispatcher.freeSlots - this.#reserved);
      if (want <= 0) {
        await new Promise<void>((resolve) => this.#wakeSlot.push(resolve));
        continue;
      }
      this.#reserved += want;
      let messages: Message[];
      try {
        messages = await this.#receive(want);
        failures = 0;
        this.#health.onReceiveOk();
      } catch (error) {
        if (this.#stopping && isAbort(error)) break;
        failures += 1;
        this.#health.onReceiveError(error);
        await sleep(Math.min(5000, 100 * 2 ** failures), this.#abort.signal);
        continue;
      } finally {
        this.#reserved -= want;
        this.#notifySlot();
      }
      this.#accept(messages);
    }
  }

  async #receive(max: number): Promise<Message[]> {
    const out = await this.#sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: this.#target.queueUrl,
        MaxNumberOfMessages: max,
        WaitTimeSeconds: this.#options.waitTimeSeconds,
        VisibilityTimeout: this.#options.visibilityTimeoutSeconds,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: [...SYSTEM_ATTRIBUTES],
      }),
      { abortSignal: this.#abort.signal },
    );
    return out.Messages ?? [];
  }

  #accept(messages: readonly Message[]): void {
    const deliveries = messages.flatMap((m) =>
      m.ReceiptHandle === undefined ? [] : [this.#toDelivery(m, m.ReceiptHandle)],
    );
    if (this.#stopping) {
      void this.#release(deliveries, true);
      return;
    }
    for (const d of deliveries) {
      this.#held.add(d);
      this.#fence?.received(d.native.key);
      this.#dispatcher.push(d, d.native.key);
    }
  }

  #toDelivery(message: Message, receiptHandle: string): SqsDelivery {
    const decoded = decodeWireMessage(message.Body, message.MessageAttributes);
    const sent = Number(message.Attributes?.SentTimestamp);
    const envelope = envelopeFromWire({
      headers: decoded.headers,
      payload: decoded.payload,
      ...(message.MessageId === undefined ? {} : { fallbackId: message.MessageId }),
      ...(Number.isFinite(sent) ? { fallbackTime: new Date(sent) } : {}),
    });
    const receiveCount = Number(message.Attributes?.ApproximateReceiveCount);
    const ledgerKey = `${this.#target.queueUrl}#${message.MessageId ?? receiptHandle}`;
    this.#sequence += 1;
    return new SettleOnceDelivery(
      this.#settler,
      {
        message,
        receiptHandle,
        wireHeaders: decoded.headers,
        key: this.#target.fifo ? message.Attributes?.MessageGroupId : envelope.partitionKey,
        sequence: this.#sequence,
        ledgerKey,
        visibleUntil: Date.now() + this.#options.visibilityTimeoutSeconds * 1000,
        extending: undefined,
      },
      envelope,
      this.#ledger.attempt(ledgerKey, Number.isInteger(receiveCount) ? receiveCount : 1),
    );
  }

  async #run(d: SqsDelivery): Promise<void> {
    try {
      if (this.#deadLettered?.has(d.native.ledgerKey) === true) {
        // Dead-lettered before, but its delete was lost: delete it, never dead-letter it twice.
        await d.ack();
        return;
      }
      if (this.#fence?.starting(d.native.key, d.native.sequence) === true) {
        await this.#release([d], true);
        return;
      }
      await this.#onDelivery(d);
    } catch {
      // The router settles every delivery; an escaped error only means this one stays unsettled.
    } finally {
      // A delivery the router left unsettled goes back to SQS; a later settlement call rejects.
      await this.#release([d], false);
      this.#held.delete(d);
      this.#notifySlot();
    }
  }

  /**
   * Give the still-unsettled of `deliveries` back to SQS now (visibility 0); later settlement
   * calls on them reject with `SETTLEMENT_FAILED` (the kit's `release()`). `unstarted`: no handler
   * saw them, so their next receive is not counted as an attempt.
   */
  async #release(deliveries: readonly SqsDelivery[], unstarted: boolean): Promise<void> {
    const owned = deliveries.filter((d) => d.release());
    if (unstarted) for (const d of owned) this.#ledger.released(d.native.ledgerKey);
    if (owned.length === 0) return;
    await Promise.all(owned.map((d) => d.native.extending?.catch(() => undefined) ?? Promise.resolve()));
    await this.#settler.changeVisibility(owned, 0);
    for (const d of owned) this.#held.delete(d);
  }

  #notifySlot(): void {
    for (const wake of this.#wakeSlot.splice(0)) wake();
  }
}
