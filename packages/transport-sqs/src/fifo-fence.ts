/**
 * Keeps FIFO order across a retry. One ReceiveMessage may return several messages of one
 * message group; when the first is retried (made invisible for the delay), the later ones
 * already received must not run before it. The fence marks them, so the subscription releases
 * them (visibility 0) instead of handling them; SQS then redelivers the group in order, because
 * it returns no message of a group while an earlier one is in flight.
 *
 * Sequences are the subscription's receive order. Memory stays bounded by the keys that have
 * messages waiting locally.
 */
export class FifoFence {
  readonly #waiting = new Map<string, number>();
  readonly #fences = new Map<string, { from: number; to: number }>();

  /** A message with `key` was received and waits locally. */
  received(key: string | undefined): void {
    if (key !== undefined) this.#waiting.set(key, (this.#waiting.get(key) ?? 0) + 1);
  }

  /**
   * A message is about to start (or be dropped). Returns true when it must be released instead
   * of handled, because an earlier message of its group was retried after it was received.
   */
  starting(key: string | undefined, sequence: number): boolean {
    if (key === undefined) return false;
    const left = (this.#waiting.get(key) ?? 1) - 1;
    if (left <= 0) this.#waiting.delete(key);
    else this.#waiting.set(key, left);
    const fence = this.#fences.get(key);
    if (left <= 0) this.#fences.delete(key);
    return fence !== undefined && sequence > fence.from && sequence <= fence.to;
  }

  /** The message (`key`, `sequence`) was retried; `latest` is the newest receive sequence so far. */
  retried(key: string | undefined, sequence: number, latest: number): void {
    if (key === undefined || !this.#waiting.has(key)) return;
    this.#fences.set(key, { from: sequence, to: latest });
  }
}
