import type { HandlerMiddleware } from '../middleware/handler-middleware.js';
import type { RetryPolicy } from '../retry/retry-policy.js';
import type { BatchOptions } from './batch-handler.js';
import type { HandlerFilter } from './handler-filter.js';

/**
 * Options of `@EventHandler`. Validated when the handler is registered with a bus (at
 * `start()`), never at decoration time; every problem is reported in one error.
 */
export interface EventHandlerOptions<T = unknown> {
  /** Consumer group: members compete, different groups each get every message. Required unless the bus sets `defaults.group`. Same character rules as event names. */
  readonly group?: string;
  /** Most deliveries handled at once by this subscription (integer ≥ 1). Default 1. */
  readonly concurrency?: number;
  /** Handle messages with the same partition key one at a time in publish order (needs a `per-key` ordering transport). Default false. */
  readonly ordered?: boolean;
  /** Attempt timeout in ms; on expiry the attempt fails with `HANDLER_TIMEOUT` and is retried. Default 30000. */
  readonly timeoutMs?: number;
  /** Retry policy; unspecified fields come from the bus defaults, then `DEFAULT_RETRY_POLICY`. */
  readonly retry?: Partial<RetryPolicy>;
  /** Dead-letter after the last attempt / unrecoverable errors (default true); false drops such messages (outcome `discarded`, logged). */
  readonly deadLetter?: boolean;
  /** Handler-level middleware, inside the bus-level middleware; first is outermost. */
  readonly middleware?: readonly HandlerMiddleware[];
  /**
   * Content-based filter: only matching messages reach the handler; the others are acked with
   * outcome `filtered` (never retried or dead-lettered). A filter that throws dead-letters the
   * message with `FILTER_FAILED`. See {@link HandlerFilter}.
   */
  readonly filter?: HandlerFilter<T>;
  /**
   * Make this a batch handler: the method receives `(entries: BatchEntry<T>[], context:
   * BatchContext)` with up to `maxSize` messages, handed over when full or `maxWaitMs` after the
   * first arrived. Each message is still settled on its own (see {@link BatchEntry}); decoding,
   * upcasting, validation, the filter and middleware run per message before it joins a batch.
   * `concurrency` counts batches: the subscription takes up to `concurrency × maxSize`
   * messages at once. In an `ordered` group a batch holds at most one message per key (the
   * next one of a key is delivered once the previous one is settled). Not for requests.
   */
  readonly batch?: BatchOptions;
}

/** Options after defaults were applied and validation passed. */
export interface ResolvedHandlerOptions {
  readonly group: string;
  readonly concurrency: number;
  readonly ordered: boolean;
  readonly timeoutMs: number;
  readonly retry: RetryPolicy;
  readonly deadLetter: boolean;
  readonly middleware: readonly HandlerMiddleware[];
  /** The handler's filter, when it has one. */
  readonly filter?: HandlerFilter;
  /** Batch settings, when it is a batch handler. */
  readonly batch?: BatchOptions;
}

/** Messages a subscription of these options takes at once: `concurrency`, times `batch.maxSize` for batch handlers. */
export function messagesInFlight(options: ResolvedHandlerOptions): number {
  return options.batch === undefined ? options.concurrency : options.concurrency * options.batch.maxSize;
}

/** Default handler timeout: 30 s. */
export const DEFAULT_HANDLER_TIMEOUT_MS = 30_000;
/** Default handler concurrency: 1. */
export const DEFAULT_HANDLER_CONCURRENCY = 1;
