/**
 * Corrects `deliveryAttempt` for messages the transport released without handling them (on
 * close, or behind a retried FIFO message): SQS's ApproximateReceiveCount counts those receives
 * too. Keyed by queue URL + SQS MessageId, kept in memory per transport, bounded (oldest entries
 * are dropped first). A message released by one process and received by another still counts
 * one attempt more; it never counts fewer.
 */
export class ReleaseLedger {
  readonly #released = new Map<string, number>();
  readonly #capacity: number;

  constructor(capacity = 10_000) {
    this.#capacity = capacity;
  }

  /** A message was released unstarted. */
  released(key: string): void {
    const count = (this.#released.get(key) ?? 0) + 1;
    this.#released.delete(key);
    this.#released.set(key, count);
    if (this.#released.size > this.#capacity) {
      const oldest = this.#released.keys().next().value;
      if (oldest !== undefined) this.#released.delete(oldest);
    }
  }

  /** The delivery attempt for a receive count: receives minus unstarted releases, at least 1. */
  attempt(key: string, receiveCount: number): number {
    return Math.max(1, receiveCount - (this.#released.get(key) ?? 0));
  }

  /** The message left the queue (acked or dead-lettered): forget it. */
  forget(key: string): void {
    this.#released.delete(key);
  }
}
