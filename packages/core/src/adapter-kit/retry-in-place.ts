import type { SettleOnceDelivery } from './settle-once-delivery.js';

/**
 * The steps {@link retryInPlace} drives for one message. Implemented once per subscription
 * (not per message).
 *
 * @typeParam T - The subscription's per-message item.
 */
export interface InPlaceSteps<T> {
  /**
   * Whether attempt `attempt` of `item` may start: false when the subscription is closing or no
   * longer owns the message (its channel, partition or lock is gone). May record the start
   * first (e.g. commit the attempt number) and resolve later.
   */
  begin(item: T, attempt: number): boolean | Promise<boolean>;
  /**
   * Run the handler once for `attempt` and resolve with the delivery it was given (settled or
   * not). Must not reject: report handler errors elsewhere.
   */
  deliver(item: T, attempt: number): Promise<SettleOnceDelivery<unknown>>;
  /** Wait `ms`; resolves false when cut short (the subscription is closing). */
  sleep(ms: number): Promise<boolean>;
  /**
   * Optional: after a settlement other than an in-place retry, a delay after which to run the
   * same attempt again (e.g. the native retry or dead-letter failed and the message is still
   * held), or undefined when the message is done.
   */
  rerunDelayMs?(delivery: SettleOnceDelivery<unknown>): Promise<number | undefined> | undefined;
}

/**
 * How {@link retryInPlace} ended:
 * - `settled`: the router settled the message (ack, retry, dead-letter);
 * - `unsettled`: the handler returned without settling it; the delivery is now released and the
 *   caller gives the message back to the broker;
 * - `stopped`: `begin` refused the next attempt (the caller owns nothing more to do);
 * - `interrupted`: the wait before the next attempt was cut short (closing): the message is
 *   still held, unsettled; the caller returns it to the broker.
 */
export type InPlaceEnd = 'settled' | 'unsettled' | 'stopped' | 'interrupted';

/**
 * Run one message of an ordered subscription until it is settled, retrying in place: when the
 * router retries an attempt (the delivery's settlement is `retry-in-place`, see
 * {@link SettlementPort.retryInPlace}), wait the requested delay while keeping the message —
 * and with it its partition key — blocked, then run the next attempt (attempt + 1) here. Later
 * messages of the key never overtake a retried one, and no copy is published. The adapter keeps
 * the native message unacknowledged the whole time (extend its lock or lease if it has one).
 *
 * Never rejects unless a step does. Allocates one promise per attempt beyond the steps' own.
 *
 * @param item - The message, as the subscription tracks it.
 * @param firstAttempt - Attempt number of the first run (from the broker count or a header).
 * @param steps - The subscription's steps (see {@link InPlaceSteps}).
 */
export async function retryInPlace<T>(
  item: T,
  firstAttempt: number,
  steps: InPlaceSteps<T>,
): Promise<InPlaceEnd> {
  let attempt = firstAttempt;
  for (;;) {
    const may = steps.begin(item, attempt);
    if (!(typeof may === 'boolean' ? may : await may)) return 'stopped';
    const delivery = await steps.deliver(item, attempt);
    const kind = delivery.settlement;
    let delayMs: number;
    if (kind === 'retry-in-place') {
      delayMs = delivery.retryDelayMs;
      attempt += 1;
    } else if (kind === undefined) {
      delivery.release();
      return 'unsettled';
    } else {
      const rerun = steps.rerunDelayMs?.(delivery);
      const rerunMs = rerun === undefined ? undefined : await rerun;
      if (rerunMs === undefined) return 'settled';
      delayMs = rerunMs;
    }
    if (!(await steps.sleep(delayMs))) return 'interrupted';
  }
}
