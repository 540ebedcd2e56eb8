/**
 * Messages this transport has dead-lettered (their dead-letter copy was accepted), keyed like the
 * release ledger (queue URL + SQS MessageId), in memory, bounded (oldest dropped first).
 *
 * Dead-lettering is "copy to the dead-letter queue, then delete the original". When the delete is
 * lost (the endpoint restarts between the two, or ElasticMQ restores the message from its store),
 * the original comes back. Without this memory the handler would run again, past maxAttempts, and
 * dead-letter a second copy. With it, a message that comes back to a consumer of the same transport
 * is deleted at once, without a handler run: one dead-letter copy per message. A message that comes
 * back to another process (the first one crashed or another consumer polled it) is not known there:
 * that window remains (see docs/transports/sqs.md).
 */
export class DeadLetterMemory {
  readonly #keys = new Set<string>();
  readonly #capacity: number;

  constructor(capacity = 10_000) {
    this.#capacity = capacity;
  }

  /** The dead-letter copy of `key` was accepted. */
  add(key: string): void {
    this.#keys.delete(key);
    this.#keys.add(key);
    if (this.#keys.size > this.#capacity) {
      const oldest = this.#keys.values().next().value;
      if (oldest !== undefined) this.#keys.delete(oldest);
    }
  }

  /** True when `key` was dead-lettered by this transport. */
  has(key: string): boolean {
    return this.#keys.has(key);
  }
}
