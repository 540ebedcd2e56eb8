import { ErrorCodes } from '../errors/error-codes.js';
import { OmnibusError } from '../errors/omnibus-error.js';
import type { MessageEnvelope } from '../message/envelope.js';
import type { DeadLetterReason, Delivery } from '../transport/delivery.js';

/**
 * How a {@link SettleOnceDelivery} ended:
 * - `acked`, `retried`, `dead-lettered`: the router asked for that settlement (it may still be
 *   in progress, or have failed: the promise the router got says which);
 * - `retry-in-place`: an ordered subscription's retry, recorded only — the subscription runs the
 *   message again after {@link SettleOnceDelivery.retryDelayMs} (see {@link retryInPlace});
 * - `released`: the adapter took the message back ({@link SettleOnceDelivery.release}); later
 *   settlement calls are ignored.
 */
export type SettlementKind = 'acked' | 'retried' | 'retry-in-place' | 'dead-lettered' | 'released';

/**
 * The native half of a {@link SettleOnceDelivery}: one object per subscription (or per receive
 * link), never one per message. The delivery calls at most one of `ack`, `retry`, `deadLetter`,
 * once, after its own checks; each must make the outcome durable on the broker before it
 * resolves (a retry or dead-letter copy is confirmed before the original is removed), and reject
 * with a typed `OmnibusError` (usually `SETTLEMENT_FAILED`) otherwise. A synchronous throw is
 * turned into a rejection.
 *
 * @typeParam N - The adapter's per-message handle (broker message, lease, custody record).
 */
export interface SettlementPort<N> {
  /** Transport name used in error messages, e.g. `rabbitmq`. */
  readonly transportName: string;
  /** The subscription's destination (copied onto every delivery). */
  readonly destination: string;
  /** The subscription's group (copied onto every delivery). */
  readonly group: string;
  /** Longest retry delay accepted, in ms (`capabilities.maxRetryDelayMs`). */
  readonly maxRetryDelayMs: number;
  /**
   * `true` for subscriptions that retry in place (ordered ones on brokers without per-message
   * redelivery delay): `retry(d)` then only records the outcome (`retry-in-place`), and the
   * subscription re-runs the message itself; {@link SettlementPort.retry} is never called.
   */
  readonly retryInPlace: boolean;
  /** Remove the message for this group. */
  ack(native: N, delivery: SettleOnceDelivery<N>): Promise<void>;
  /** Redeliver no sooner than `delayMs` (already range-checked) with the next attempt number. */
  retry(native: N, delayMs: number, delivery: SettleOnceDelivery<N>): Promise<void>;
  /** Move the message to the group's dead-letter destination with `reason`. */
  deadLetter(native: N, reason: DeadLetterReason, delivery: SettleOnceDelivery<N>): Promise<void>;
  /**
   * Optional broker-specific objection to a retry (beyond the `0…maxRetryDelayMs` range the
   * delivery checks itself), e.g. a visibility limit counted from the receive, or a channel that
   * is gone. Returning an error rejects the retry with it and leaves the delivery unsettled.
   */
  retryProblem?(native: N, delayMs: number, delivery: SettleOnceDelivery<N>): Error | undefined;
  /** Optional: what {@link Delivery.raw} exposes (default: the native handle itself). Called lazily. */
  raw?(native: N): unknown;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * A {@link Delivery} that enforces the settlement bookkeeping every adapter needs, so the
 * adapter only writes the native operations ({@link SettlementPort}):
 *
 * - **Settle once.** The first of `ack`, `retry`, `deadLetter` wins; every later call resolves
 *   at once without touching the broker. After {@link release} every call rejects with
 *   `SETTLEMENT_FAILED` (never resolves: the message was given back and will be redelivered).
 * - **Retry-delay range.** `retry(d)` with `d` not a finite number in `0…maxRetryDelayMs`, or
 *   refused by {@link SettlementPort.retryProblem}, rejects with `DELAY_OUT_OF_RANGE` (or the
 *   port's error) and leaves the delivery unsettled and still settleable: a delay is never
 *   shortened.
 * - **Left unsettled.** After the handler returns, {@link release} tells the adapter whether the
 *   router left the message unsettled (then give it back to the broker) and makes any late
 *   settlement a no-op.
 *
 * Allocation: one object per delivery (`receivedAt` becomes a `Date` only when read); no
 * closures, no promise beyond the one the port returns. Not thread-safe in any sense beyond the single event loop.
 *
 * @typeParam N - The adapter's per-message handle.
 */
export class SettleOnceDelivery<N> implements Delivery {
  readonly envelope: MessageEnvelope;
  readonly deliveryAttempt: number;
  /** The adapter's per-message handle this delivery settles. */
  readonly native: N;
  readonly #port: SettlementPort<N>;
  #settlement: SettlementKind | undefined;
  #retryDelayMs = 0;
  #work: Promise<void> | undefined;
  readonly #receivedAtMs: number;
  #receivedAt: Date | undefined;

  /**
   * @param port - The subscription's native settlement operations (shared by its deliveries).
   * @param native - This message's handle, passed back to every port call; `undefined` for a
   *   subclass that is its own handle (the delivery then passes itself).
   * @param envelope - The decoded envelope.
   * @param deliveryAttempt - 1-based attempt number of this delivery.
   */
  constructor(port: SettlementPort<N>, native: N | undefined, envelope: MessageEnvelope, deliveryAttempt: number) {
    this.#port = port;
    this.native = native ?? (this as unknown as N);
    this.envelope = envelope;
    this.deliveryAttempt = deliveryAttempt;
    this.#receivedAtMs = Date.now();
  }

  /** When the adapter received the message (the clock is read at construction; the `Date` is made on first read). */
  get receivedAt(): Date {
    this.#receivedAt ??= new Date(this.#receivedAtMs);
    return this.#receivedAt;
  }

  /** The subscription's destination (read from the port: no field per delivery). */
  get destination(): string {
    return this.#port.destination;
  }

  /** The subscription's group (read from the port). */
  get group(): string {
    return this.#port.group;
  }

  /** See {@link Delivery.raw}: the port's `raw(native)`, else the native handle. */
  get raw(): unknown {
    const port = this.#port;
    return port.raw === undefined ? this.native : port.raw(this.native);
  }

  /** True until the first settlement call or {@link release}. */
  get pending(): boolean {
    return this.#settlement === undefined;
  }

  /** How the delivery ended so far (undefined while pending). */
  get settlement(): SettlementKind | undefined {
    return this.#settlement;
  }

  /** The delay the router asked for with `retry` (0 otherwise). */
  get retryDelayMs(): number {
    return this.#retryDelayMs;
  }

  /** {@inheritDoc Delivery.ack} */
  ack(): Promise<void> {
    if (this.#settlement !== undefined) return this.#again();
    this.#settlement = 'acked';
    let work: Promise<void>;
    try {
      work = this.#port.ack(this.native, this);
    } catch (error) {
      work = rejection(error);
    }
    this.#work = work;
    return work;
  }

  /** {@inheritDoc Delivery.retry} */
  retry(delayMs: number): Promise<void> {
    if (this.#settlement !== undefined) return this.#again();
    const port = this.#port;
    if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > port.maxRetryDelayMs) {
      return Promise.reject(
        new OmnibusError(
          ErrorCodes.DELAY_OUT_OF_RANGE,
          `${port.transportName}: retry delay ${String(delayMs)} ms for message ${this.envelope.id} on ${this.destination}/${this.group} is outside 0…${String(port.maxRetryDelayMs)} ms (never shortened; the message stays unsettled)`,
        ),
      );
    }
    if (port.retryProblem !== undefined) {
      const problem = port.retryProblem(this.native, delayMs, this);
      if (problem !== undefined) return Promise.reject(problem);
    }
    this.#retryDelayMs = delayMs;
    if (port.retryInPlace) {
      this.#settlement = 'retry-in-place';
      return RESOLVED;
    }
    this.#settlement = 'retried';
    let work: Promise<void>;
    try {
      work = port.retry(this.native, delayMs, this);
    } catch (error) {
      work = rejection(error);
    }
    this.#work = work;
    return work;
  }

  /** {@inheritDoc Delivery.deadLetter} */
  deadLetter(reason: DeadLetterReason): Promise<void> {
    if (this.#settlement !== undefined) return this.#again();
    this.#settlement = 'dead-lettered';
    let work: Promise<void>;
    try {
      work = this.#port.deadLetter(this.native, reason, this);
    } catch (error) {
      work = rejection(error);
    }
    this.#work = work;
    return work;
  }

  /** A settlement call after the first: a no-op, except after {@link release} (rejects). */
  #again(): Promise<void> {
    if (this.#settlement !== 'released') return RESOLVED;
    const port = this.#port;
    return Promise.reject(
      new OmnibusError(
        ErrorCodes.SETTLEMENT_FAILED,
        `${port.transportName}: message ${this.envelope.id} on ${this.destination}/${this.group} was already given back to the broker (its subscription closed or its handler returned without settling); it is redelivered`,
        { retriable: false },
      ),
    );
  }

  /**
   * Take the message back without settling it: returns `true` when it was still pending (the
   * caller then returns it to the broker: nack, abandon, visibility 0, or simply never commits
   * it) and `false` when it was already settled or released. Every later settlement call
   * rejects with `SETTLEMENT_FAILED` without touching the broker, so a handler that settles after
   * its subscription closed learns that the message comes back instead of seeing it vanish. Call it after the handler returned (to detect a delivery
   * the router left unsettled) and when a closing subscription gives up on a running handler.
   */
  release(): boolean {
    if (this.#settlement !== undefined) return false;
    this.#settlement = 'released';
    return true;
  }

  /**
   * Resolves `true` once the native settlement succeeded (or for `retry-in-place`), `false`
   * when it failed, was never requested or the delivery was released. Never rejects. Allocates
   * one promise; meant for adapters that act on a failed settlement (re-run the message).
   */
  settledOk(): Promise<boolean> {
    const kind = this.#settlement;
    if (kind === 'retry-in-place') return Promise.resolve(true);
    if (kind === undefined || kind === 'released' || this.#work === undefined) return Promise.resolve(false);
    return this.#work.then(yes, no);
  }
}

function yes(): boolean {
  return true;
}

function no(): boolean {
  return false;
}

function rejection(error: unknown): Promise<never> {
  return Promise.reject(error instanceof Error ? error : new Error(String(error), { cause: error }));
}
