import type { Channel, Message } from 'amqplib';

/**
 * Coalesces the `basic.ack` frames of one consumer channel. Acks requested during one turn of
 * the event loop are written together at the end of it: the contiguous run of settled delivery
 * tags from the oldest unsettled one is acknowledged with a single `multiple` ack, the other
 * settled tags one by one. A `multiple` ack only ever covers tags that were acked here or already
 * returned with a nack (which is written at once, so before it): never a message still being
 * handled. Delivery tags are per channel, so one coalescer per channel.
 */
export class AckCoalescer {
  readonly #channel: Channel;
  /** Delivered tags not yet written as ack or nack, ascending (the order the broker sent them). */
  #outstanding: number[] = [];
  #head = 0;
  /** Acked by the handler, ack frame not written yet. */
  readonly #pending = new Map<number, Message>();
  /** Written individually (ack or nack) while an older tag was still unsettled. */
  readonly #written = new Set<number>();
  #scheduled: NodeJS.Immediate | undefined;

  constructor(channel: Channel) {
    this.#channel = channel;
  }

  /** Record a delivery (in the order the broker delivered them). */
  received(message: Message): void {
    this.#outstanding.push(message.fields.deliveryTag);
  }

  /** Acknowledge `message` with the next flush (at the end of this event-loop turn). */
  ack(message: Message): void {
    this.#pending.set(message.fields.deliveryTag, message);
    this.#scheduled ??= setImmediate(() => {
      this.#scheduled = undefined;
      this.#flushSafely();
    });
  }

  /** Return `message` to its queue now (`basic.nack`, requeue), after the acks requested before it. */
  nack(message: Message): void {
    this.flush();
    this.#channel.nack(message, false, true);
    this.#written.add(message.fields.deliveryTag);
  }

  /** Write every requested ack now (before closing or cancelling the channel). Throws when the channel is gone. */
  flush(): void {
    if (this.#scheduled !== undefined) {
      clearImmediate(this.#scheduled);
      this.#scheduled = undefined;
    }
    if (this.#pending.size === 0) return;
    let upTo: Message | undefined;
    while (this.#head < this.#outstanding.length) {
      const tag = this.#outstanding[this.#head] as number;
      const message = this.#pending.get(tag);
      if (message !== undefined) {
        this.#pending.delete(tag);
        upTo = message;
      } else if (!this.#written.delete(tag)) {
        break;
      }
      this.#head += 1;
    }
    if (this.#head > 1024 && this.#head * 2 > this.#outstanding.length) {
      this.#outstanding = this.#outstanding.slice(this.#head);
      this.#head = 0;
    }
    if (upTo !== undefined) this.#channel.ack(upTo, true);
    for (const [tag, message] of this.#pending) {
      this.#channel.ack(message, false);
      this.#written.add(tag);
    }
    this.#pending.clear();
  }

  /** A flush from the timer: a closed channel means the broker redelivers those messages anyway. */
  #flushSafely(): void {
    try {
      this.flush();
    } catch {
      // channel closed in between: the broker requeues every unacked message
    }
  }
}
