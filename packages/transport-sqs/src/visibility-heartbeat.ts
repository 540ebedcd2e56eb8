import type { SqsDelivery } from './sqs-delivery.js';

/**
 * Keeps held messages invisible while they wait or run: every third of the visibility timeout
 * it extends, in batches, each held message whose visibility would lapse before the next-but-one
 * tick. Extensions of one message never overlap, and settlement awaits a pending extension, so an
 * extension can never undo a retry delay. Timer is unref'd; `stop` is idempotent.
 */
export class VisibilityHeartbeat {
  readonly #intervalMs: number;
  readonly #visibilitySeconds: number;
  readonly #held: () => Iterable<SqsDelivery>;
  readonly #extend: (deliveries: readonly SqsDelivery[], seconds: number) => Promise<SqsDelivery[]>;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: {
    visibilitySeconds: number;
    held: () => Iterable<SqsDelivery>;
    extend: (deliveries: readonly SqsDelivery[], seconds: number) => Promise<SqsDelivery[]>;
  }) {
    this.#visibilitySeconds = options.visibilitySeconds;
    this.#intervalMs = Math.max(250, Math.floor((options.visibilitySeconds * 1000) / 3));
    this.#held = options.held;
    this.#extend = options.extend;
  }

  /** Start ticking. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => this.tick(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stop ticking (pending extensions finish on their own). */
  stop(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** One round: extend what is due. Exposed for tests. */
  tick(): void {
    const now = Date.now();
    const due: SqsDelivery[] = [];
    for (const d of this.#held()) {
      const held = d.native;
      if (d.pending && held.extending === undefined && held.visibleUntil - now <= 2 * this.#intervalMs + 50)
        due.push(d);
    }
    if (due.length === 0) return;
    const sentAt = Date.now();
    const pending = this.#extend(due, this.#visibilitySeconds).then((extended) => {
      for (const d of extended) d.native.visibleUntil = sentAt + this.#visibilitySeconds * 1000;
    });
    const finished = pending.finally(() => {
      for (const d of due) if (d.native.extending === finished) d.native.extending = undefined;
    });
    for (const d of due) d.native.extending = finished;
  }
}
