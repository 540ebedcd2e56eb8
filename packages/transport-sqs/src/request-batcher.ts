/**
 * Coalesces single requests into batch calls (SQS DeleteMessageBatch and the like): entries
 * added within `lingerMs`, up to `maxSize`, go out in one `send`. Each `add` resolves or
 * rejects with its own entry's outcome. Safe for any interleaving of calls in one event loop.
 */
export class RequestBatcher<E> {
  readonly #send: (entries: readonly E[]) => Promise<readonly (Error | undefined)[]>;
  readonly #maxSize: number;
  readonly #lingerMs: number;
  #pending: { entry: E; resolve: () => void; reject: (error: Error) => void }[] = [];
  #timer: NodeJS.Timeout | undefined;

  /**
   * @param send sends one batch; returns, per entry and in order, `undefined` for success or the
   *   entry's error. A rejection fails every entry of the batch.
   */
  constructor(
    send: (entries: readonly E[]) => Promise<readonly (Error | undefined)[]>,
    maxSize = 10,
    lingerMs = 5,
  ) {
    this.#send = send;
    this.#maxSize = maxSize;
    this.#lingerMs = lingerMs;
  }

  /** Queue one entry; resolves when its batch call succeeded for it. */
  add(entry: E): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ entry, resolve, reject });
      if (this.#pending.length >= this.#maxSize) this.flush();
      else this.#timer ??= setTimeout(() => this.flush(), this.#lingerMs);
    });
  }

  /** Send everything queued now. */
  flush(): void {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    while (this.#pending.length > 0) {
      const batch = this.#pending.splice(0, this.#maxSize);
      this.#send(batch.map((p) => p.entry)).then(
        (results) => {
          batch.forEach((p, i) => {
            const error = results[i];
            if (error === undefined) p.resolve();
            else p.reject(error);
          });
        },
        (error: unknown) => {
          const failure = error instanceof Error ? error : new Error(String(error));
          for (const p of batch) p.reject(failure);
        },
      );
    }
  }
}
