import type { ServiceBusSessionReceiver } from '@azure/service-bus';

/** Renew no later than this before the lock expires, and never more often than every second. */
const MIN_RENEW_INTERVAL_MS = 1_000;

/** Handle returned by {@link keepSessionLocked}. */
export interface SessionLockKeeper {
  /** True once a renewal failed: the broker may already have given the session to another receiver. */
  readonly lost: boolean;
  /** Stop renewing. Idempotent. */
  stop(): void;
}

/**
 * Renew a session lock at half its remaining time for as long as the worker holds the session
 * (however long handlers and in-place retry delays take), instead of the SDK's renewal window
 * fixed at accept time. A failed renewal marks the lock lost: the worker stops taking messages
 * from that session; the broker redelivers whatever was not settled.
 */
export function keepSessionLocked(
  session: ServiceBusSessionReceiver,
  fallbackLockMs: number,
): SessionLockKeeper {
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let lost = false;
  const schedule = (): void => {
    if (stopped) return;
    const lockedUntil = session.sessionLockedUntilUtc?.getTime() ?? Date.now() + fallbackLockMs;
    const wait = Math.max(MIN_RENEW_INTERVAL_MS, (lockedUntil - Date.now()) / 2);
    timer = setTimeout(() => {
      session.renewSessionLock().then(schedule, () => {
        if (!stopped) lost = true;
      });
    }, wait);
    timer.unref();
  };
  schedule();
  return {
    get lost() {
      return lost;
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
