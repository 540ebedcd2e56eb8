import type { Logger } from '../logging/logger.js';
import type { HandlerContext } from './handler-context.js';

/**
 * Batch option of `@EventHandler`: the handler receives up to `maxSize` messages at once,
 * collected for at most `maxWaitMs` after the first one arrived.
 */
export interface BatchOptions {
  /** Most messages in one batch (integer 1–1000). A full batch is handed over at once. */
  readonly maxSize: number;
  /**
   * Longest wait, in ms after the first message of a batch arrived, before a batch that is not
   * full is handed over (> 0 and below the handler's `timeoutMs`: the wait counts towards each
   * message's attempt timeout).
   */
  readonly maxWaitMs: number;
}

/**
 * One message of a batch. Every entry is settled on its own when the batch handler returns:
 * acked, unless {@link fail} was called for it (then it follows the handler's retry and
 * dead-letter policy exactly as if a single-message handler had thrown that error). When the
 * batch handler throws, every entry not failed on its own fails with the thrown error.
 */
export interface BatchEntry<T> {
  /** Decoded payload (upcast and validated like a single handler's payload). */
  readonly payload: T;
  /**
   * This message's context (envelope, attempt, signal…). Publish inside
   * `runInHandlerContext(entry.context, …)` to stamp this message as correlation and causation.
   */
  readonly context: HandlerContext;
  /**
   * Fail this entry only: `RetryLaterError` retries after its delay, `UnrecoverableError`
   * dead-letters at once, any other error is retried with backoff until `retry.maxAttempts`,
   * then dead-lettered. The last call wins.
   */
  fail(error: unknown): void;
}

/** Second argument of a batch handler: what the entries share. */
export interface BatchContext {
  /** `ClassName.methodName` of the handler. */
  readonly handler: string;
  /** Destination the batch was consumed from. */
  readonly destination: string;
  /** Consumer group. */
  readonly group: string;
  /**
   * Aborted as soon as one entry's attempt is aborted (its timeout passed, or the bus stopped
   * before the batch finished).
   */
  readonly signal: AbortSignal;
  /** The bus logger. */
  readonly logger: Logger;
}

/** Signature of a batch handler (`@EventHandler(E, { batch: { maxSize, maxWaitMs } })`). */
export type BatchHandlerMethod<T> = (
  entries: readonly BatchEntry<T>[],
  context: BatchContext,
) => void | Promise<void>;

/** Largest `batch.maxSize` accepted. */
export const MAX_BATCH_SIZE = 1000;

/** Problems with a `batch` option as written, given the handler's resolved `timeoutMs`. Pure. */
export function batchProblems(batch: unknown, timeoutMs: number): string[] {
  if (typeof batch !== 'object' || batch === null) return ['batch must be an object { maxSize, maxWaitMs }'];
  const problems: string[] = [];
  const { maxSize, maxWaitMs, ...rest } = batch as Record<string, unknown>;
  for (const key of Object.keys(rest))
    problems.push(`unknown batch option "${key}" (known: maxSize, maxWaitMs)`);
  if (typeof maxSize !== 'number' || !Number.isInteger(maxSize) || maxSize < 1 || maxSize > MAX_BATCH_SIZE)
    problems.push(
      `batch.maxSize must be an integer from 1 to ${String(MAX_BATCH_SIZE)}, got ${String(maxSize)}`,
    );
  if (typeof maxWaitMs !== 'number' || !Number.isFinite(maxWaitMs) || maxWaitMs <= 0)
    problems.push(`batch.maxWaitMs must be a number > 0, got ${String(maxWaitMs)}`);
  else if (maxWaitMs >= timeoutMs)
    problems.push(
      `batch.maxWaitMs (${String(maxWaitMs)}) must be below timeoutMs (${String(timeoutMs)}): the wait counts towards each message's attempt timeout`,
    );
  return problems;
}
