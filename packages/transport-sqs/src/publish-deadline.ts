import { ErrorCodes, OmnibusError, isOmnibusError } from '@omnibus/core';
import { isTransientSqsError } from './sqs-error-mapper.js';

/** When one publish call must have succeeded or given up. */
export interface PublishDeadline {
  /** Epoch ms after which no new attempt starts. */
  readonly at: number;
  /** The configured publishTimeoutMs (for the error message). */
  readonly timeoutMs: number;
}

/**
 * Runs `operation` (one SQS/SNS request, or a queue/topic lookup) and, while it fails with a
 * transient error (network, 5xx, throttling: the endpoint is down or restarting), runs it again
 * after 100 ms doubling to 1 s, as long as the next attempt starts before `deadline.at`; a request
 * still running at `deadline.at` is aborted (its signal). Then it rejects with a retriable `PUBLISH_FAILED` naming the timeout and the last cause. Permanent errors
 * (missing queue, bad request) reject at once. The same behaviour every transport has during an
 * outage: wait and resend within the publish timeout, then a typed retriable error.
 *
 * A request whose answer was lost may have been stored: a re-send can store a message twice
 * (at-least-once), never lose a confirmed one.
 */
export async function publishWithinDeadline<T>(
  deadline: PublishDeadline,
  destination: string,
  operation: (signal: AbortSignal) => Promise<T>,
): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    // The request itself is aborted at the deadline too (a server that accepts and stays silent).
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), Math.max(1, deadline.at - Date.now()));
    try {
      return await operation(abort.signal);
    } catch (error) {
      if (abort.signal.aborted) throw timedOut(error, deadline, destination);
      if (!isTransientSqsError(error)) throw error;
      const wait = Math.min(1_000, 100 * 2 ** (attempt - 1));
      if (Date.now() + wait >= deadline.at) throw timedOut(error, deadline, destination);
      await new Promise((resolve) => setTimeout(resolve, wait));
    } finally {
      clearTimeout(timer);
    }
  }
}

function timedOut(error: unknown, deadline: PublishDeadline, destination: string): OmnibusError {
  const detail = isOmnibusError(error) || error instanceof Error ? error.message : String(error);
  return new OmnibusError(
    ErrorCodes.PUBLISH_FAILED,
    `SQS: publish to "${destination}" not accepted within publishTimeoutMs ${String(deadline.timeoutMs)} ms: ${detail}`,
    { retriable: true, cause: error },
  );
}
