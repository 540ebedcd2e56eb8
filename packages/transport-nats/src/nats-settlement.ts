import { RETRIES_EXHAUSTED, deadLetterWireHeaders } from '@omnibus/core';
import type { DeadLetterReason, MessageEnvelope, SubscriptionSpec } from '@omnibus/core';
import type { SettleOnceDelivery, SettlementPort } from '@omnibus/core/adapter-kit';
import { isTransient, settlementError } from './nats-error-mapper.js';
import { fromNatsHeaders } from './nats-message-mapper.js';
import type { NatsTransportOptions } from './nats-options.js';
import { PulledMessage } from './nats-pulled-message.js';

/** One received JetStream message while this subscription holds it. */
export interface HeldMessage {
  readonly msg: PulledMessage;
  readonly envelope: MessageEnvelope;
  /** Partition (ordered groups) or -1. */
  readonly partition: number;
  /** True until it was acked, nak'd or dead-lettered: only then is its lease extended. */
  held: boolean;
  /** Ordered groups: acked by the router, to be acked on the server once the handler returned. */
  ackAfterHandler?: boolean;
}

/** What {@link NatsSettlement} needs. */
export interface NatsSettlementContext {
  readonly spec: SubscriptionSpec;
  readonly options: NatsTransportOptions;
  /** Publish a dead-lettered copy (JetStream PubAck awaited) to the group's dead-letter subject. */
  readonly publishDeadLetter: (headers: Record<string, string>, payload: Uint8Array) => Promise<void>;
  /** Resolves once the server received everything sent so far (PING/PONG). */
  readonly flush: () => Promise<void>;
  /** A core NATS request (used to re-send an unconfirmed ack to the message's reply subject). */
  readonly request: (subject: string, body: Uint8Array, timeoutMs: number) => Promise<unknown>;
  /** The connection now: how often it was lost so far, and bytes received on it so far. */
  readonly connection: () => NatsConnectionMark;
}

/** A point in a connection's life (see {@link NatsSettlementContext.connection}). */
export interface NatsConnectionMark {
  /** Disconnects seen so far (the same value twice: the connection stayed up in between). */
  readonly losses: number;
  /** Bytes received so far (grew: the server kept sending). */
  readonly inBytes: number;
}

/** True for a request that ended because its reply did not come in time. */
function isTimeout(error: unknown): boolean {
  return error instanceof Error && /timeout/i.test(`${error.name} ${error.message}`);
}

/** The connection stayed up (no loss in between) and kept receiving since `sent`. */
export function lateNotLost(sent: NatsConnectionMark, now: NatsConnectionMark): boolean {
  return now.losses === sent.losses && now.inBytes > sent.inBytes;
}

/** How long one ack confirmation is waited for before the ack is sent again. */
const ACK_TRY_MS = 2_000;

/**
 * The native settlement of one subscription, driven by the kit's `SettleOnceDelivery` (which
 * enforces settle-once and the retry-delay range):
 *
 * - `ack`: a JetStream double ack (`+ACK` as a request), resolved once the server confirmed it.
 * - `retry(d)`: `nak(d)` — the server redelivers no sooner than `d`, with the delivery count (the
 *   attempt) one higher; resolved once the server received the nak (flush). Ordered groups
 *   retry in place instead (`retryInPlace`): the subscription keeps the message, its lease
 *   extended and its partition blocked, and gives it back with {@link handBack} after the delay.
 *   On the delivery that reached `maxDeliver` a retry dead-letters instead (`RETRIES_EXHAUSTED`):
 *   the server would never deliver it again.
 * - `deadLetter(r)`: a copy with the reason headers is published to the group's dead-letter
 *   subject (PubAck awaited), then the original is acked. When the copy cannot be stored the
 *   original is nak'd (redelivered after 1 s) and the call rejects.
 *
 * Failures reject with `SETTLEMENT_FAILED`; the server then redelivers the message after its ack
 * wait at the latest.
 */
export class NatsSettlement implements SettlementPort<HeldMessage> {
  readonly transportName = 'nats';
  readonly destination: string;
  readonly group: string;
  readonly maxRetryDelayMs: number;
  readonly retryInPlace: boolean;
  readonly #context: NatsSettlementContext;

  constructor(context: NatsSettlementContext) {
    this.#context = context;
    this.destination = context.spec.destination;
    this.group = context.spec.group;
    this.maxRetryDelayMs = context.options.maxRetryDelayMs;
    this.retryInPlace = context.spec.ordered;
  }

  /** What `Delivery.raw` exposes: the NATS `Msg` (its `reply` is the JetStream ack subject). */
  raw(held: HeldMessage): unknown {
    return held.msg.msg;
  }

  /**
   * Unordered groups: resolves once the server confirmed the ack. Ordered groups: resolves at
   * once and the subscription sends the (confirmed) ack when the handler has returned — the
   * server hands the partition's next message to another member the moment it processes the
   * ack, so acking before the handler is done would let two handlers of one key overlap.
   */
  async ack(held: HeldMessage): Promise<void> {
    held.held = false;
    if (this.retryInPlace) {
      held.ackAfterHandler = true;
      return;
    }
    await this.#ack(held, 'ack');
  }

  /** Acknowledge a message this group does not handle (a replay meant for another group). */
  async ackUnhandled(held: HeldMessage): Promise<void> {
    held.held = false;
    await this.#ack(held, 'ack');
  }

  /** The deferred ack of an ordered delivery (see {@link ack}). */
  async ackAfterHandler(held: HeldMessage): Promise<void> {
    await this.#ack(held, 'ack');
  }

  async retry(held: HeldMessage, delayMs: number, delivery: SettleOnceDelivery<HeldMessage>): Promise<void> {
    if (this.exhausted(delivery)) {
      await this.deadLetter(held, this.exhaustedReason(delivery));
      return;
    }
    held.held = false;
    held.msg.nak(delayMs > 0 ? delayMs : undefined);
    await this.#flush('retry');
  }

  async deadLetter(held: HeldMessage, reason: DeadLetterReason): Promise<void> {
    held.held = false;
    const { spec } = this.#context;
    const original = fromNatsHeaders(held.msg.headers);
    // A foreign message's fallback id is kept, so the dead letter can be traced back to it.
    original['ce-id'] ??= held.envelope.id;
    const headers = deadLetterWireHeaders(original, reason, {
      destination: spec.destination,
      group: spec.group,
    });
    try {
      await this.#context.publishDeadLetter(headers, held.msg.data);
    } catch (error) {
      held.msg.nak(1_000);
      throw this.#error(error, 'dead-letter');
    }
    await this.#ack(held, 'dead-letter');
  }

  /** True when the server will not deliver this message again (`maxDeliver` reached). */
  exhausted(delivery: SettleOnceDelivery<HeldMessage>): boolean {
    return delivery.deliveryAttempt >= this.#context.options.maxDeliver;
  }

  /** The reason a message that reached `maxDeliver` is dead-lettered with. */
  exhaustedReason(delivery: SettleOnceDelivery<HeldMessage>): DeadLetterReason {
    const { maxDeliver } = this.#context.options;
    return {
      code: RETRIES_EXHAUSTED,
      message: `NATS: delivery ${String(delivery.deliveryAttempt)} reached the consumer's maxDeliver (${String(maxDeliver)})`,
      attempts: delivery.deliveryAttempt,
    };
  }

  /** Give a message back for immediate redelivery (`nak`) unless it was already settled. */
  handBack(held: HeldMessage): void {
    if (!held.held) return;
    held.held = false;
    held.msg.nak();
  }

  /**
   * Double ack: `+ACK` sent as a request, resolved by the server's confirmation. When the
   * confirmation does not come (the connection dropped with the ack or its reply in flight) the
   * ack is sent again until `settleTimeoutMs`: acks are idempotent, and only a confirmed ack tells
   * whether the server removed the message (an ack that reached the server but whose reply was
   * lost must not be reported as failed — the message would then be neither redelivered nor
   * counted as acked).
   *
   * A confirmation still missing at `settleTimeoutMs` on a connection that stayed up and kept
   * receiving is late, not lost: the server handles a connection's messages in order and answers
   * each ack, and the answer waits behind the deliveries queued to this client (a process too busy
   * to read its socket — seen in contract V1 on a CPU-starved machine, with confirmations over
   * 10 s late). The ack was received and is applied, so it resolves. Only a connection lost
   * meanwhile, or one on which nothing arrived (the server gone or hung), rejects.
   */
  async #ack(held: HeldMessage, action: string): Promise<void> {
    const { settleTimeoutMs } = this.#context.options;
    const deadline = Date.now() + settleTimeoutMs;
    const reply = held.msg.reply;
    if (reply === '') throw this.#error(new Error('the message has no ack subject'), action);
    const sent = this.#context.connection();
    for (let first = true; ; first = false) {
      try {
        const remaining = first ? settleTimeoutMs : deadline - Date.now();
        await this.#context.request(
          reply,
          PulledMessage.ackBody,
          Math.max(1, Math.min(ACK_TRY_MS, remaining)),
        );
        return;
      } catch (error) {
        if (!isTransient(error)) throw this.#error(error, action);
        if (Date.now() >= deadline) {
          if (isTimeout(error) && lateNotLost(sent, this.#context.connection())) return;
          throw this.#error(error, action);
        }
      }
    }
  }

  async #flush(action: string): Promise<void> {
    try {
      await this.#context.flush();
    } catch (error) {
      throw this.#error(error, action);
    }
  }

  #error(error: unknown, action: string): Error {
    return settlementError(error, action, this.#context.spec.destination, this.#context.spec.group);
  }
}
