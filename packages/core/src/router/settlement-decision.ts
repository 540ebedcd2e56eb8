import { isOmnibusError } from '../errors/omnibus-error.js';
import { isRetryLaterError } from '../errors/retry-later-error.js';
import { isUnrecoverableError } from '../errors/unrecoverable-error.js';
import type { SettlementReason } from '../instrumentation/instrumentation-events.js';
import { computeRetryDelay, type RetryPolicy } from '../retry/retry-policy.js';
import type { DeadLetterReason } from '../transport/delivery.js';

/** Dead-letter code when a handler that kept asking `RetryLaterError` ran out of attempts. */
export const RETRIES_EXHAUSTED = 'RETRIES_EXHAUSTED';
/** Code for plain handler errors (not OmnibusErrors). */
export const HANDLER_FAILED = 'HANDLER_FAILED';
/** Code of a retry requested with `RetryLaterError`. */
export const RETRY_LATER = 'RETRY_LATER';

/** What the router will do with a delivery. */
export type SettlementDecision =
  | { readonly kind: 'ack' }
  | { readonly kind: 'retry'; readonly delayMs: number; readonly reason: SettlementReason }
  | { readonly kind: 'dead-letter'; readonly reason: DeadLetterReason }
  | { readonly kind: 'discard'; readonly reason: DeadLetterReason };

/** The facts {@link decideOnFailure} needs. */
export interface FailureFacts {
  /** The failed delivery's 1-based attempt. */
  readonly attempt: number;
  readonly retry: RetryPolicy;
  /** When false, terminal failures are discarded instead of dead-lettered. */
  readonly deadLetter: boolean;
  /** The transport's `maxRetryDelayMs`: requested delays are clamped to it. */
  readonly maxRetryDelayMs: number;
  /** Random source for jitter, [0, 1). */
  readonly random?: () => number;
}

/**
 * Map a handler failure to a settlement. Pure (given `random`).
 *
 * - `UnrecoverableError` → dead-letter now with its code.
 * - `RetryLaterError(delayMs)` → retry after `delayMs` (policy backoff when absent), clamped to
 *   `maxRetryDelayMs`; on or after the last attempt → dead-letter `RETRIES_EXHAUSTED`.
 * - anything else → retry after `computeRetryDelay(attempt)` while `attempt < maxAttempts`,
 *   then dead-letter with the error's code (`HANDLER_FAILED` for non-Omnibus errors).
 * - every dead-letter becomes `discard` when `deadLetter` is false.
 */
export function decideOnFailure(error: unknown, facts: FailureFacts): SettlementDecision {
  const message = error instanceof Error ? error.message : String(error);
  if (isUnrecoverableError(error)) return terminal(error.code, message, facts);
  const lastAttempt = facts.attempt >= facts.retry.maxAttempts;
  if (isRetryLaterError(error)) {
    if (lastAttempt)
      return terminal(
        RETRIES_EXHAUSTED,
        `${message} (retry requested after the last of ${String(facts.retry.maxAttempts)} attempts)`,
        facts,
      );
    const requested = error.delayMs ?? computeRetryDelay(facts.attempt, facts.retry, facts.random);
    return {
      kind: 'retry',
      delayMs: Math.min(requested, facts.maxRetryDelayMs),
      reason: { code: RETRY_LATER, message },
    };
  }
  const code = isOmnibusError(error) ? error.code : HANDLER_FAILED;
  if (lastAttempt) return terminal(code, message, facts);
  const delayMs = Math.min(
    computeRetryDelay(facts.attempt, facts.retry, facts.random),
    facts.maxRetryDelayMs,
  );
  return { kind: 'retry', delayMs, reason: { code, message } };
}

/** Dead-letter (or discard, when dead-lettering is off) with a reason. Pure. */
export function terminal(
  code: string,
  message: string,
  facts: Pick<FailureFacts, 'attempt' | 'deadLetter'>,
): SettlementDecision {
  const reason: DeadLetterReason = { code, message, attempts: facts.attempt };
  return facts.deadLetter ? { kind: 'dead-letter', reason } : { kind: 'discard', reason };
}
