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
