import { BrokerError, Conditions } from './broker-error.js';

interface Waiter {
  readonly holderId: string;
  readonly resolve: (sessionId: string) => void;
  readonly reject: (error: BrokerError) => void;
  readonly timer: NodeJS.Timeout;
}

/**
 * Receive links waiting in "accept next session" for a session to become available, served in
 * arrival order. A wait ends with a session id, or with `com.microsoft:timeout` after the timeout
 * the client sent (which the SDK reports as `ServiceTimeout`).
 */
export class SessionWaiters {
  private waiters: Waiter[] = [];

  /** Waits up to `timeoutMs` for {@link serve} to hand this holder a session. */
  wait(holderId: string, timeoutMs: number): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(
        () => {
          this.waiters = this.waiters.filter((w) => w.timer !== timer);
          reject(
            new BrokerError(
              Conditions.timeout,
              `The operation did not complete within the allocated time ${timeoutMs} ms. No session is available.`,
              408,
            ),
          );
        },
        Math.max(0, timeoutMs),
      );
      timer.unref();
      this.waiters.push({ holderId, resolve, reject, timer });
    });
  }

  /**
   * Hands sessions to waiters while `next` finds one; `lock` locks it for the waiter before the
   * waiter is resolved.
   */
  serve(next: () => string | undefined, lock: (sessionId: string, holderId: string) => void): void {
    while (this.waiters.length > 0) {
      const sessionId = next();
      if (sessionId === undefined) return;
      const waiter = this.waiters.shift();
      if (!waiter) return;
      clearTimeout(waiter.timer);
      lock(sessionId, waiter.holderId);
      waiter.resolve(sessionId);
    }
  }

  /** Drops the waits of a holder (its link closed); their promises never settle. */
  remove(holderId: string): void {
    for (const w of this.waiters) if (w.holderId === holderId) clearTimeout(w.timer);
    this.waiters = this.waiters.filter((w) => w.holderId !== holderId);
  }

  /** Fails every wait (entity deleted or emulator stopping). */
  rejectAll(error: BrokerError): void {
    for (const w of this.waiters) {
      clearTimeout(w.timer);
      w.reject(error);
    }
    this.waiters = [];
  }
}
