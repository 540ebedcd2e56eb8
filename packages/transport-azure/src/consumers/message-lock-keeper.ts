import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';

/** Never renew more often than this, however short the remaining lock. */
const MIN_RENEW_INTERVAL_MS = 1_000;

/** Handle returned by {@link keepMessageLocked}. */
export interface MessageLockKeeper {
  /** Stop renewing. Idempotent. */
  stop(): void;
}

/**
 * Renew one peek-lock (`renewMessageLock`, by lock token over `$management`) at half its
 * remaining time until {@link MessageLockKeeper.stop} or `maxDurationMs` after the start.
 * A failed renewal (lock lost, receiver closed) ends the renewals; the broker then redelivers
 * the message when the lock expires.
 *
 * Used instead of the SDK's automatic renewal so that the transport decides when renewing
 * stops: at once when the delivery settles or its settlement fails. The SDK's own renewal keeps
 * going after a settlement that failed because the connection dropped, which would hold the
 * message locked, undelivered, for the whole renewal window. Timers are unref'd.
 */
export function keepMessageLocked(
  receiver: ServiceBusReceiver,
  message: ServiceBusReceivedMessage,
  fallbackLockMs: number,
  maxDurationMs: number,
): MessageLockKeeper {
  const deadline = Date.now() + maxDurationMs;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (): void => {
    if (stopped) return;
    const lockedUntil = message.lockedUntilUtc?.getTime() ?? Date.now() + fallbackLockMs;
    if (lockedUntil >= deadline) return;
    const wait = Math.max(MIN_RENEW_INTERVAL_MS, (lockedUntil - Date.now()) / 2);
    timer = setTimeout(() => {
      if (stopped) return;
      receiver.renewMessageLock(message).then(schedule, () => undefined);
    }, wait);
    timer.unref();
  };
  schedule();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}

/** Lock renewal never stops before this (the SDK default), however short the handler timeout. */
const MIN_LOCK_RENEWAL_MS = 5 * 60_000;
/** Renewal keeps going this long past the handler timeout, to cover settlement. */
const LOCK_RENEWAL_MARGIN_MS = 60_000;

/**
 * How long a consumer keeps renewing one message's lock: the handler timeout plus a minute for
 * settlement, and never less than the SDK's default of five minutes.
 */
export function lockRenewalWindowMs(handlerTimeoutMs: number): number {
  return Math.max(MIN_LOCK_RENEWAL_MS, handlerTimeoutMs + LOCK_RENEWAL_MARGIN_MS);
}
