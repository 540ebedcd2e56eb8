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
}

/** A deadline `timeoutMs` from now. */
export function publishDeadline(timeoutMs: number): PublishDeadline {
  return { at: Date.now() + timeoutMs, timeoutMs };
}

/**
 * The publish behaviour every transport shares during an outage: run `operation` and, while it
 * fails with a transient error, run it again after 100 ms doubling to 1 s, as long as the next
 * attempt starts before `deadline.at`. An attempt still running at `deadline.at` is given up (its
 * `signal` aborts; a client that cannot be aborted keeps running in the background) and the call
 * rejects with a retriable `PUBLISH_FAILED` naming the timeout and the last cause. Permanent
 * errors, and `NO_SUBSCRIBERS` (retriable, but no outage), reject at once, unchanged. One timer per attempt, cleared when it settles.
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
    const abort = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          abort.abort();
          reject(new Error('the publish deadline passed while the request was running'));
        },
        Math.max(1, deadline.at - Date.now()),
      );
    });
    try {
      return await Promise.race([operation(abort.signal), expired]);
    } catch (error) {
      if (abort.signal.aborted) throw timedOut(error, deadline, options);
      // Nobody subscribes (ADR 0005): a deployment state, not an outage; the caller retries it.
      if (isOmnibusError(error) && error.code === ErrorCodes.NO_SUBSCRIBERS) throw error;
      if (!options.isTransient(error)) throw error;
      const wait = Math.min(1_000, 100 * 2 ** (attempt - 1));
      if (Date.now() + wait >= deadline.at) throw timedOut(error, deadline, options);
      await new Promise((resolve) => setTimeout(resolve, wait));
    } finally {
      clearTimeout(timer);
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
