import type { JsMsg } from '@nats-io/jetstream';
import { ErrorCodes, OmnibusError, RETRIES_EXHAUSTED, deadLetterWireHeaders } from '@omnibus/core';
import type { DeadLetterReason, Delivery, MessageEnvelope, SubscriptionSpec } from '@omnibus/core';
import { settlementError } from './nats-error-mapper.js';
import { fromNatsHeaders } from './nats-message-mapper.js';
import type { NatsTransportOptions } from './nats-options.js';

/** One received JetStream message while this subscription holds it. */
export interface HeldMessage {
  readonly msg: JsMsg;
  readonly envelope: MessageEnvelope;
  /** Partition (ordered groups) or -1. */
  readonly partition: number;
  /** `held` until acked, nak'd or dead-lettered; the lease is extended only while `held`. */
  state: 'held' | 'settled' | 'released';
}

/** How the router settled one delivery. `local-retry`: ordered groups, nak after the delay. */
export type SettlementOutcome =
  { readonly kind: 'settled' } | { readonly kind: 'local-retry'; readonly delayMs: number };

/** What {@link NatsSettlement} needs. */
export interface NatsSettlementContext {
  readonly spec: SubscriptionSpec;
  readonly options: NatsTransportOptions;
  /** Publish a dead-lettered copy (JetStream PubAck awaited) to the group's dead-letter subject. */
  readonly publishDeadLetter: (headers: Record<string, string>, payload: Uint8Array) => Promise<void>;
  /** Resolves once the server received everything sent so far (PING/PONG). */
  readonly flush: () => Promise<void>;
}

/**
 * Builds the {@link Delivery} of each received message and settles it natively:
 *
 * - `ack`: a JetStream double ack (`ackAck`), resolved once the server confirmed it.
 * - `retry(d)`: unordered groups `nak(d)` — the server redelivers no sooner than `d`, with the
 *   delivery count (the attempt) one higher. Ordered groups keep the message (the lease is
 *   extended, so the partition stays blocked) and `nak()` it after `d`; the server redelivers
 *   it before any later message of its partition. A delay above `maxRetryDelayMs` rejects with
 *   `DELAY_OUT_OF_RANGE` and leaves the delivery unsettled. On the delivery that reached
 *   `maxDeliver` a retry dead-letters instead (`RETRIES_EXHAUSTED`): the server would not
 *   deliver it again.
 * - `deadLetter(r)`: a copy with the reason headers is published to the group's dead-letter
 *   subject (PubAck awaited), then the original is acked. When the copy cannot be stored the
 *   original is nak'd and the call rejects.
 *
 * The first settlement wins; later calls resolve and change nothing. Failures reject with
 * `SETTLEMENT_FAILED`; the server then redelivers the message after its ack wait at the latest.
 */
export class NatsSettlement {
  readonly #context: NatsSettlementContext;

  constructor(context: NatsSettlementContext) {
    this.#context = context;
  }

  /** A delivery for `held`; `settle` receives the outcome synchronously on the first settlement. */
  delivery(held: HeldMessage, settle: (outcome: SettlementOutcome) => void): Delivery {
    const { spec, options } = this.#context;
    const attempt = held.msg.info.deliveryCount;
    let settled = false;
    const once = (): boolean => {
      if (settled || held.state !== 'held') return false;
      settled = true;
      return true;
    };
    return {
      envelope: held.envelope,
      deliveryAttempt: attempt,
      receivedAt: new Date(),
      destination: spec.destination,
      group: spec.group,
      raw: held.msg,
      ack: async () => {
        if (!once()) return;
        settle({ kind: 'settled' });
        held.state = 'settled';
        await this.#ack(held, 'ack');
      },
      retry: async (delayMs: number) => {
        this.#checkDelay(delayMs);
        if (!once()) return;
        if (attempt >= options.maxDeliver) {
          settle({ kind: 'settled' });
          held.state = 'settled';
          await this.#deadLetter(held, {
            code: RETRIES_EXHAUSTED,
            message: `NATS: delivery ${String(attempt)} reached the consumer's maxDeliver (${String(options.maxDeliver)})`,
            attempts: attempt,
          });
          return;
        }
        if (spec.ordered) {
          settle({ kind: 'local-retry', delayMs: Math.max(0, delayMs) });
          return;
        }
        settle({ kind: 'settled' });
        held.state = 'settled';
        held.msg.nak(delayMs > 0 ? delayMs : undefined);
        await this.#flush('retry');
      },
      deadLetter: async (reason: DeadLetterReason) => {
        if (!once()) return;
        settle({ kind: 'settled' });
        held.state = 'settled';
        await this.#deadLetter(held, reason);
      },
    };
  }

  /** Give a message back for immediate redelivery (`nak`). A no-op once it was settled. */
  release(held: HeldMessage): void {
    if (held.state !== 'held') return;
    held.state = 'released';
    held.msg.nak();
  }

  #checkDelay(delayMs: number): void {
    const largest = this.#context.options.maxRetryDelayMs;
    if (delayMs > largest) {
      throw new OmnibusError(
        ErrorCodes.DELAY_OUT_OF_RANGE,
        `NATS: retry delay of ${String(delayMs)} ms exceeds maxRetryDelayMs (${String(largest)} ms)`,
      );
    }
  }

  async #ack(held: HeldMessage, action: string): Promise<void> {
    let confirmed: boolean;
    try {
      confirmed = await held.msg.ackAck({ timeout: this.#context.options.settleTimeoutMs });
    } catch (error) {
      throw this.#error(error, action);
    }
    if (!confirmed) throw this.#error(new Error('the server did not confirm the ack'), action);
  }

  async #flush(action: string): Promise<void> {
    try {
      await this.#context.flush();
    } catch (error) {
      throw this.#error(error, action);
    }
  }

  async #deadLetter(held: HeldMessage, reason: DeadLetterReason): Promise<void> {
    const { spec } = this.#context;
    const original = fromNatsHeaders(held.msg.headers);
    // A foreign message's fallback id is kept, so the dead letter can be traced back to it.
    if (original['ce-id'] === undefined) original['ce-id'] = held.envelope.id;
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

  #error(error: unknown, action: string): OmnibusError {
    return settlementError(error, action, this.#context.spec.destination, this.#context.spec.group);
  }
}
