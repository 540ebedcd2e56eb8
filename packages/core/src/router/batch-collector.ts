import type { BatchContext, BatchEntry, BatchOptions } from '../handler/batch-handler.js';
import type { MiddlewareContext } from '../handler/handler-context.js';
import { runOutsideHandlerContext } from '../handler/handler-context-storage.js';

/** Runs one batch: resolves once the handler finished, rejects with what it threw. */
export type RunBatch = (
  entries: readonly BatchEntry<unknown>[],
  context: BatchContext,
) => Promise<void> | void;

/** One waiting message: its attempt's context and how to finish the attempt. */
interface Waiting {
  readonly context: MiddlewareContext;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Collects the attempts of one batch handler into batches of at most `maxSize`, handed over
 * when full or `maxWaitMs` after the first one arrived (at once while closing). Each attempt's
 * promise (see {@link add}) settles with that message's own outcome once its batch finished, so
 * the router settles every message on its own with the usual retry and dead-letter rules.
 * Batches run outside any message's handler context. Single event loop only.
 */
export class BatchCollector {
  readonly #options: BatchOptions;
  readonly #handler: string;
  readonly #run: RunBatch;
  #waiting: Waiting[] = [];
  #timer: NodeJS.Timeout | undefined;
  #closing = false;

  constructor(options: BatchOptions, handler: string, run: RunBatch) {
    this.#options = options;
    this.#handler = handler;
    this.#run = run;
  }

  /** Queue one attempt; settles with its entry's outcome once its batch ran. */
  add(context: MiddlewareContext): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#waiting.push({ context, resolve, reject });
      if (this.#closing || this.#waiting.length >= this.#options.maxSize) this.#flush();
      else
        this.#timer ??= runOutsideHandlerContext(() =>
          setTimeout(() => {
            this.#flush();
          }, this.#options.maxWaitMs),
        );
    });
  }

  /** Hand over what waits now, and every later attempt at once (the bus is stopping). */
  close(): void {
    this.#closing = true;
    if (this.#waiting.length > 0) this.#flush();
  }

  #flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const batch = this.#waiting;
    this.#waiting = [];
    if (batch.length > 0) runOutsideHandlerContext(() => this.#start(batch));
  }

  #start(batch: readonly Waiting[]): void {
    const failures = new Map<number, unknown>();
    const entries = batch.map(({ context }, index): BatchEntry<unknown> => ({
      payload: context.payload,
      context,
      fail: (error: unknown) => {
        failures.set(index, error);
      },
    }));
    const first = batch[0]?.context;
    if (first === undefined) return;
    let signal: AbortSignal | undefined;
    const shared: BatchContext = {
      handler: this.#handler,
      destination: first.destination,
      group: first.group,
      logger: first.logger,
      get signal(): AbortSignal {
        signal ??= AbortSignal.any(batch.map((waiting) => waiting.context.signal));
        return signal;
      },
    };
    const finish = (thrown: unknown, failed: boolean): void => {
      for (const [index, waiting] of batch.entries()) {
        if (failures.has(index)) waiting.reject(failures.get(index));
        else if (failed) waiting.reject(thrown);
        else waiting.resolve();
      }
    };
    let running: Promise<void> | void;
    try {
      running = this.#run(entries, shared);
    } catch (error) {
      finish(error, true);
      return;
    }
    if (running === undefined) finish(undefined, false);
    else
      running.then(
        () => finish(undefined, false),
        (error: unknown) => finish(error, true),
      );
  }
}
