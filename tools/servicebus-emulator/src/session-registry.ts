import { BrokerError, Conditions, sessionLockLost } from './broker-error.js';

interface SessionInfo {
  holderId: string | undefined;
  lockedUntil: number;
  timer: NodeJS.Timeout | undefined;
  state: Buffer | undefined;
}

/**
 * Session locks and session state of one session-enabled queue or subscription.
 *
 * A session is locked by one receive link at a time for the entity's lock duration; the lock is
 * renewed through `renew-session-lock` and released when the link closes. When it expires,
 * `onExpired` tells the owner so it can unlock the session's messages and detach the link.
 */
export class SessionRegistry {
  private readonly sessions = new Map<string, SessionInfo>();

  constructor(
    private readonly lockDurationMs: () => number,
    private readonly onExpired: (sessionId: string, holderId: string) => void,
  ) {}

  private info(sessionId: string): SessionInfo {
    let info = this.sessions.get(sessionId);
    if (!info) {
      info = { holderId: undefined, lockedUntil: 0, timer: undefined, state: undefined };
      this.sessions.set(sessionId, info);
    }
    return info;
  }

  /** The receive link holding the session lock, if the lock is live. */
  holderOf(sessionId: string): string | undefined {
    const info = this.sessions.get(sessionId);
    if (!info || info.holderId === undefined || info.lockedUntil <= Date.now()) return undefined;
    return info.holderId;
  }

  /** Epoch ms until which the session is locked (0 when not locked). */
  lockedUntil(sessionId: string): number {
    return this.holderOf(sessionId) === undefined ? 0 : (this.sessions.get(sessionId)?.lockedUntil ?? 0);
  }

  /** Locks a session for a holder. Throws `SessionCannotBeLocked` when another holder has it. */
  lock(sessionId: string, holderId: string): number {
    const current = this.holderOf(sessionId);
    if (current !== undefined && current !== holderId) {
      throw new BrokerError(
        Conditions.sessionCannotBeLocked,
        `The requested session '${sessionId}' cannot be accepted. It may be locked by another receiver.`,
        410,
      );
    }
    const info = this.info(sessionId);
    info.holderId = holderId;
    this.arm(sessionId, info);
    return info.lockedUntil;
  }

  /** Extends a live session lock by the lock duration. Throws `SessionLockLost` otherwise. */
  renew(sessionId: string): number {
    const info = this.sessions.get(sessionId);
    if (!info || this.holderOf(sessionId) === undefined) throw sessionLockLost(sessionId);
    this.arm(sessionId, info);
    return info.lockedUntil;
  }

  private arm(sessionId: string, info: SessionInfo): void {
    if (info.timer) clearTimeout(info.timer);
    const duration = this.lockDurationMs();
    info.lockedUntil = Date.now() + duration;
    info.timer = setTimeout(() => {
      const holder = info.holderId;
      info.timer = undefined;
      info.holderId = undefined;
      if (holder !== undefined) this.onExpired(sessionId, holder);
    }, duration);
    info.timer.unref();
  }

  /** Releases the lock if `holderId` (or anyone, when omitted) holds it. */
  unlock(sessionId: string, holderId?: string): boolean {
    const info = this.sessions.get(sessionId);
    if (!info || info.holderId === undefined) return false;
    if (holderId !== undefined && info.holderId !== holderId) return false;
    if (info.timer) clearTimeout(info.timer);
    info.timer = undefined;
    info.holderId = undefined;
    info.lockedUntil = 0;
    return true;
  }

  /** Session state; requires a live session lock. */
  getState(sessionId: string): Buffer | undefined {
    if (this.holderOf(sessionId) === undefined) throw sessionLockLost(sessionId);
    return this.sessions.get(sessionId)?.state;
  }

  /** Sets (or clears, with undefined) the session state; requires a live session lock. */
  setState(sessionId: string, state: Buffer | undefined): void {
    if (this.holderOf(sessionId) === undefined) throw sessionLockLost(sessionId);
    this.info(sessionId).state = state;
  }

  /** Session states for a snapshot (locks are not kept). */
  snapshotStates(): Array<{ id: string; state: string }> {
    const out: Array<{ id: string; state: string }> = [];
    for (const [id, info] of this.sessions)
      if (info.state) out.push({ id, state: info.state.toString('base64') });
    return out;
  }

  /** Restores session states from a snapshot. */
  restoreStates(states: ReadonlyArray<{ id: string; state: string }>): void {
    for (const s of states) this.info(s.id).state = Buffer.from(s.state, 'base64');
  }

  /** Clears every timer (emulator stop). */
  close(): void {
    for (const info of this.sessions.values()) {
      if (info.timer) clearTimeout(info.timer);
      info.timer = undefined;
      info.holderId = undefined;
    }
  }
}
