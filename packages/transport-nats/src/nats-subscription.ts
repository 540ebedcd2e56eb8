import type { NatsConnection } from '@nats-io/transport-node';
import { KeyedDispatcher } from '@omnibus/core';
import type { DeliveryHandler, Subscription, SubscriptionSpec } from '@omnibus/core';
import { SettleOnceDelivery, sleep } from '@omnibus/core/adapter-kit';
import { REPLAY_GROUP_HEADER } from './nats-dead-letters.js';
import { decodeHeaderValue, receivedToEnvelope } from './nats-message-mapper.js';
import type { NatsTransportOptions } from './nats-options.js';
import type { PulledMessage } from './nats-pulled-message.js';
import { NatsPuller } from './nats-puller.js';
import type { PullOutcome } from './nats-puller.js';
import { NatsSettlement } from './nats-settlement.js';
import type { HeldMessage, NatsSettlementContext } from './nats-settlement.js';

/** What a subscription needs from its transport. */
export interface NatsSubscriptionContext {
  readonly spec: SubscriptionSpec;
  readonly onDelivery: DeliveryHandler;
  readonly options: NatsTransportOptions;
  readonly nc: NatsConnection;
  /** The destination's stream. */
  readonly stream: string;
  /** The group's durable consumers: one (unordered) or one per partition (ordered), in partition order. */
  readonly consumers: readonly string[];
  readonly settlement: Omit<NatsSettlementContext, 'spec' | 'options'>;
  /** Receives errors that cannot be thrown to a caller (failed pulls, a rejected handler). */
  readonly onError: (error: unknown) => void;
  /** Called once the subscription is closed, so the transport can forget it. */
  readonly onClosed: () => void;
}

/** True for a replayed dead letter addressed to a group other than `group` (see nats-dead-letters). */
function isReplayForAnotherGroup(msg: PulledMessage, group: string): boolean {
  const target = msg.headers?.get(REPLAY_GROUP_HEADER) ?? '';
  return target !== '' && decodeHeaderValue(target) !== group;
}

/** How long one pull request waits for messages on the server. Close cancels it (unsubscribe). */
const PULL_EXPIRES_MS = 5_000;
const MAX_BACKOFF_MS = 2_000;

/**
 * Consumes one group through its durable pull consumers and runs deliveries through core's
 * {@link KeyedDispatcher} (concurrency limit; per-key order when ordered).
 *
 * - Unordered: one pull loop asks for as many messages as the concurrency limit has room for.
 * - Ordered: one pull loop per partition consumer (`max_ack_pending: 1` server-side), each
 *   asking for the next message only once its partition's message is settled.
 *
 * Each consumer's pull requests answer to one inbox that lives as long as the subscription
 * ({@link NatsPuller}), so a message the server hands out is never dropped by the client: every
 * delivery the server counts reaches the handler, and the attempt (the server's delivery count)
 * never skips a number.
 *
 * While a message is held (queued, running, or waiting out an ordered retry) its lease is
 * extended with `working()` every third of the ack wait. Pull loops survive reconnects and
 * server restarts (they retry with backoff). Close: stop starting work, `nak` the unstarted
 * messages at once (other members get them), cancel the open pull requests (unsubscribe,
 * confirmed by the server; a message it sent before is nak'd as it arrives), drain running
 * handlers up to the bound, then `nak` whatever is still unsettled.
 */
export class NatsSubscription implements Subscription {
  readonly #context: NatsSubscriptionContext;
  readonly #settlement: NatsSettlement;
  readonly #dispatcher: KeyedDispatcher<HeldMessage>;
  readonly #held = new Set<HeldMessage>();
  readonly #running = new Map<HeldMessage, SettleOnceDelivery<HeldMessage>>();
  readonly #retryTimers = new Map<HeldMessage, NodeJS.Timeout>();
  readonly #abort = new AbortController();
  readonly #partitionWaiters = new Map<number, () => void>();
  #pullers: NatsPuller[] = [];
  #loops: Promise<void>[] = [];
  #heartbeat: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;

  constructor(context: NatsSubscriptionContext) {
    this.#context = context;
    this.#settlement = new NatsSettlement({
      ...context.settlement,
      spec: context.spec,
      options: context.options,
    });
    this.#dispatcher = new KeyedDispatcher<HeldMessage>({
      concurrency: context.spec.concurrency,
      ordered: context.spec.ordered,
      run: (held) => this.#run(held),
      onError: (error) => context.onError(error),
    });
  }

  /** Start the pull loops and the lease heartbeat. Call once. */
  start(): void {
    const every = Math.max(500, Math.floor(this.#context.options.ackWaitMs / 3));
    this.#heartbeat = setInterval(() => this.#extendLeases(), every);
    const { ordered } = this.#context.spec;
    this.#pullers = this.#context.consumers.map(
      (consumer, index) =>
        new NatsPuller({
          nc: this.#context.nc,
          stream: this.#context.stream,
          consumer,
          expiresMs: PULL_EXPIRES_MS,
          onMessage: (msg) => this.#accept(msg, ordered ? index : -1),
          onError: (error) => this.#context.onError(error),
        }),
    );
    this.#loops = ordered
      ? this.#pullers.map((puller, partition) => this.#orderedLoop(puller, partition))
      : this.#pullers.map((puller) => this.#loop(puller));
  }

  /** See {@link Subscription.close}. Idempotent; never rejects. */
  close(drainTimeoutMs: number): Promise<void> {
    this.#closing ??= this.#close(drainTimeoutMs).finally(() => this.#context.onClosed());
    return this.#closing;
  }

  /** The connection dropped: open pull requests are gone on the server; the loops ask again. */
  connectionLost(): void {
    for (const puller of this.#pullers) puller.connectionLost();
  }

  get #stopping(): boolean {
    return this.#closing !== undefined;
  }

  async #loop(puller: NatsPuller): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      await this.#dispatcher.waitForCapacity();
      if (this.#stopping) break;
      const outcome = await puller.pull(Math.max(1, this.#dispatcher.freeSlots));
      failures = await this.#afterPull(outcome, failures);
    }
  }

  async #orderedLoop(puller: NatsPuller, partition: number): Promise<void> {
    let failures = 0;
    while (!this.#stopping) {
      await this.#partitionIdle(partition);
      if (this.#stopping) break;
      const outcome = await puller.pull(1);
      failures = await this.#afterPull(outcome, failures);
    }
  }

  /**
   * A request that ended normally resets the failure count; a refused or lost one (the server
   * restarting, the connection away) backs off before the next, reporting refusals.
   */
  async #afterPull(outcome: PullOutcome, failures: number): Promise<number> {
    if (outcome.kind === 'fulfilled' || outcome.kind === 'expired') return 0;
    if (outcome.kind === 'refused') {
      this.#context.onError(
        new Error(
          `NATS: pull request of group "${this.#context.spec.group}" refused: ${String(outcome.code)} ${outcome.description}`,
        ),
      );
    }
    if (!this.#stopping) await sleep(Math.min(MAX_BACKOFF_MS, 50 * 2 ** (failures + 1)), this.#abort.signal);
    return failures + 1;
  }

  #accept(msg: PulledMessage, partition: number): void {
    const envelope = receivedToEnvelope({
      headers: msg.headers,
      data: msg.data,
      stream: msg.info.stream,
      seq: msg.seq,
      timestampMs: Math.floor(msg.info.timestampNanos / 1_000_000),
    });
    const held: HeldMessage = { msg, envelope, partition, held: true };
    if (this.#stopping) {
      this.#settlement.handBack(held);
      return;
    }
    this.#held.add(held);
    if (isReplayForAnotherGroup(msg, this.#context.spec.group)) {
      // A dead letter replayed to another group of this destination: acknowledged, never handled.
      this.#settlement
        .ackUnhandled(held)
        .catch((error: unknown) => this.#context.onError(error))
        .finally(() => this.#forget(held));
      return;
    }
    this.#dispatcher.push(held, envelope.partitionKey);
  }

  /** Resolves once no message of `partition` is held (ordered loops pull one at a time). */
  #partitionIdle(partition: number): Promise<void> {
    const busy = [...this.#held].some((h) => h.partition === partition);
    if (!busy) return Promise.resolve();
    return new Promise((resolve) => this.#partitionWaiters.set(partition, resolve));
  }

  #forget(held: HeldMessage): void {
    this.#held.delete(held);
    const waiter = this.#partitionWaiters.get(held.partition);
    if (waiter !== undefined) {
      this.#partitionWaiters.delete(held.partition);
      waiter();
    }
  }

  async #run(held: HeldMessage): Promise<void> {
    const delivery = new SettleOnceDelivery(
      this.#settlement,
      held,
      held.envelope,
      held.msg.info.deliveryCount,
    );
    this.#running.set(held, delivery);
    try {
      await this.#context.onDelivery(delivery);
    } catch (error) {
      this.#context.onError(error);
    }
    this.#running.delete(held);
    if (held.ackAfterHandler === true) {
      await this.#settlement.ackAfterHandler(held).catch((error: unknown) => this.#context.onError(error));
    }
    if (delivery.settlement === 'retry-in-place') {
      if (this.#settlement.exhausted(delivery)) {
        await this.#settlement
          .deadLetter(held, this.#settlement.exhaustedReason(delivery))
          .catch((error: unknown) => this.#context.onError(error));
      } else {
        this.#retryLater(held, delivery.retryDelayMs);
        return;
      }
    }
    // Never settled: give it back rather than hold it forever.
    if (delivery.release()) this.#settlement.handBack(held);
    this.#forget(held);
  }

  /**
   * Ordered retry: keep holding the message (lease extended, partition blocked: the consumer
   * allows one unacknowledged message), then `nak` it. The server redelivers a nak'd message
   * before any later one of its partition, with the delivery count (the attempt) one higher, to
   * whichever member pulls next; the attempt count survives a crash meanwhile.
   */
  #retryLater(held: HeldMessage, delayMs: number): void {
    const timer = setTimeout(() => {
      this.#retryTimers.delete(held);
      this.#settlement.handBack(held);
      this.#forget(held);
    }, delayMs);
    this.#retryTimers.set(held, timer);
  }

  #extendLeases(): void {
    for (const held of this.#held) if (held.held) held.msg.working();
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    const unstarted = this.#dispatcher.stop();
    this.#abort.abort();
    for (const held of unstarted) {
      this.#settlement.handBack(held);
      this.#forget(held);
    }
    for (const resolve of this.#partitionWaiters.values()) resolve();
    this.#partitionWaiters.clear();
    // Cancels the open pull requests; what the server sent before it knew is handed back.
    const pullersClosed = Promise.all(this.#pullers.map((puller) => puller.close()));
    await Promise.all([pullersClosed, Promise.all(this.#loops), this.#dispatcher.drain(drainTimeoutMs)]);
    for (const timer of this.#retryTimers.values()) clearTimeout(timer);
    this.#retryTimers.clear();
    // Handlers still running past the bound: their late settlement becomes a no-op.
    for (const delivery of this.#running.values()) delivery.release();
    this.#running.clear();
    for (const held of this.#held) this.#settlement.handBack(held);
    this.#held.clear();
    clearInterval(this.#heartbeat);
    await this.#context.settlement.flush().catch(() => undefined);
  }
}
