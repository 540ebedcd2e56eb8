import { setMaxListeners } from 'node:events';
import { ErrorCodes } from '../errors/error-codes.js';
import { isOmnibusError, OmnibusError } from '../errors/omnibus-error.js';

/** When one publish call must have succeeded or given up (shared by the requests of one call). */
export interface PublishDeadline {
  /** Epoch ms after which no new attempt starts and a running one is given up. */
  readonly at: number;
  /** The configured publish timeout (ms), for the error message. */
  readonly timeoutMs: number;
}

/** What {@link resendUntil} needs besides the operation. */
export interface ResendOptions {
  /** Transport name for the error message, e.g. `SQS`. */
  readonly transport: string;
  readonly destination: string;
  /** True when the failure means "the broker is (briefly) unreachable": re-send. Else reject at once. */
  readonly isTransient: (error: unknown) => boolean;
  /**
   * Set when every attempt settles by `deadline.at` on its own (the client's request timeout is
   * given the time left, as NATS's PubAck timeout is): the kit then watches no deadline (no timer,
   * no race; about 1 µs less per call) and the `signal` passed never aborts.
   */
  readonly attemptsEndByDeadline?: boolean;
}

/** A deadline `timeoutMs` from now. */
export function publishDeadline(timeoutMs: number): PublishDeadline {
  return { at: Date.now() + timeoutMs, timeoutMs };
}

/**
 * Granularity of the shared deadline timers: attempts whose deadlines fall in the same window of
 * this many ms share one timer and one abort signal, fired at the window's end (so an attempt is
 * given up at most this much after its own deadline, never before it).
 */
const DEADLINE_GRANULARITY_MS = 10;

/** One timer and one abort signal, shared by every attempt whose deadline falls in one window. */
interface SharedExpiry {
  readonly key: number;
  readonly controller: AbortController;
  /** Rejects with {@link EXPIRED} when the window ends. */
  readonly expired: Promise<never>;
  timer: NodeJS.Timeout | undefined;
  /** Attempts running against it; at 0 the timer is cleared and the window forgotten. */
  users: number;
}

const NEVER_ABORTED = new AbortController().signal;
const EXPIRED = new Error('the publish deadline passed while the request was running');
const expiries = new Map<number, SharedExpiry>();

/** Join the shared expiry of `at`'s window (arming its timer when it is the first attempt in it). */
function joinExpiry(at: number): SharedExpiry {
  const key = Math.ceil(at / DEADLINE_GRANULARITY_MS) * DEADLINE_GRANULARITY_MS;
  let expiry = expiries.get(key);
  if (expiry === undefined) {
    const controller = new AbortController();
    // Shared by design: every attempt of the window may listen (no leak warning at 11).
    setMaxListeners(0, controller.signal);
    let fire: (reason: Error) => void = () => undefined;
    const expired = new Promise<never>((_, reject) => {
      fire = reject;
    });
    // Only racing attempts observe it; one that fires after every attempt left is not an error.
    expired.catch(() => undefined);
    const created: SharedExpiry = { key, controller, expired, timer: undefined, users: 0 };
    created.timer = setTimeout(
      () => {
        if (expiries.get(key) === created) expiries.delete(key);
        controller.abort();
        fire(EXPIRED);
      },
      Math.max(1, key - Date.now()),
    );
    expiries.set(key, created);
    expiry = created;
  }
  expiry.users += 1;
  return expiry;
}

function leaveExpiry(expiry: SharedExpiry): void {
  expiry.users -= 1;
  if (expiry.users > 0 || expiries.get(expiry.key) !== expiry) return;
  clearTimeout(expiry.timer);
  expiries.delete(expiry.key);
}

/**
 * The publish behaviour every transport shares during an outage: run `operation` and, while it
 * fails with a transient error, run it again after 100 ms doubling to 1 s, as long as the next
 * attempt starts before `deadline.at`. An attempt still running at `deadline.at` is given up (its
 * `signal` aborts; a client that cannot be aborted keeps running in the background) and the call
 * rejects with a retriable `PUBLISH_FAILED` naming the timeout and the last cause. Permanent
 * errors, and `NO_SUBSCRIBERS` (retriable, but no outage), reject at once, unchanged.
 *
 * Cheap enough to call once per message: attempts whose deadlines fall in the same
 * {@link DEADLINE_GRANULARITY_MS} window share one timer and one abort signal (given up at most
 * that much after their deadline), and the timer is cleared as soon as the last of them settles.
 * So the requests of one publish call, and of all the calls made in the same few ms, arm one
 * timer, not one each. Do not keep the signal beyond the attempt: it aborts at the window's end.
 *
 * A request whose answer was lost may have stored its message: a re-send (or the caller's retry of
 * a rejected publish) can store it twice, never lose a confirmed one.
 */
export async function resendUntil<T>(
  deadline: PublishDeadline,
  options: ResendOptions,
  operation: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    const expiry = options.attemptsEndByDeadline === true ? undefined : joinExpiry(deadline.at);
    const signal = expiry?.controller.signal ?? NEVER_ABORTED;
    try {
      return await (expiry === undefined
        ? operation(signal)
        : Promise.race([operation(signal), expiry.expired]));
    } catch (error) {
      if (signal.aborted) throw timedOut(error, deadline, options);
      // Nobody subscribes (ADR 0005): a deployment state, not an outage; the caller retries it.
      if (isOmnibusError(error) && error.code === ErrorCodes.NO_SUBSCRIBERS) throw error;
      if (!options.isTransient(error)) throw error;
      const wait = Math.min(1_000, 100 * 2 ** (attempt - 1));
      if (Date.now() + wait >= deadline.at) throw timedOut(error, deadline, options);
      await new Promise((resolve) => setTimeout(resolve, wait));
    } finally {
      if (expiry !== undefined) leaveExpiry(expiry);
    }
  }
}

function timedOut(error: unknown, deadline: PublishDeadline, options: ResendOptions): OmnibusError {
  const detail = error instanceof Error ? error.message : String(error);
  return new OmnibusError(
    ErrorCodes.PUBLISH_FAILED,
    `${options.transport}: publish to "${options.destination}" not accepted within publishTimeoutMs ${String(deadline.timeoutMs)} ms: ${detail}`,
    { retriable: true, cause: error },
  );
}
