import { createHash } from 'node:crypto';

/** SQS queue names: at most 80 characters of `[A-Za-z0-9_-]`, plus `.fifo` for FIFO queues. */
const MAX_QUEUE_NAME = 80;
const FIFO_SUFFIX = '.fifo';
const DLQ_SUFFIX = '-dlq';
const GROUP_SEPARATOR = '--';

/** Names of everything one (destination, group) uses on SQS/SNS. */
export interface SqsQueueNames {
  /** The queue the group consumes. */
  readonly queue: string;
  /** The group's dead-letter queue. */
  readonly deadLetterQueue: string;
}

/**
 * Maps Omnibus destination and group names onto SQS queue and SNS topic names. Pure and
 * deterministic, so publishers, consumers and out-of-band tools agree without coordination.
 *
 * - `.` becomes `_` (event names like `orders.order-placed.v1` are common); any other character
 *   outside `[A-Za-z0-9_-]` is replaced by `-` and an 8-hex hash of the original is appended, so
 *   distinct names stay distinct. (`a.b` and `a_b` do map to the same name.)
 * - Names longer than the SQS limit are cut and suffixed with the same kind of hash.
 */
export class SqsNaming {
  readonly #prefix: string;
  readonly #fifo: boolean;

  constructor(options: { readonly queuePrefix: string; readonly fifo: boolean }) {
    this.#prefix = options.queuePrefix;
    this.#fifo = options.fifo;
  }

  /** SNS topic of a destination (fanOut "sns"). */
  topic(destination: string): string {
    return this.#finish(this.#base(destination));
  }

  /**
   * Queue names of one (destination, group). With `perGroup` false (fanOut "none") the queue
   * belongs to the destination, whatever the group is called.
   */
  queues(destination: string, group: string, perGroup: boolean): SqsQueueNames {
    const raw = perGroup ? `${destination}${GROUP_SEPARATOR}${group}` : destination;
    const base = this.#base(raw);
    return { queue: this.#finish(base), deadLetterQueue: this.#finish(`${base}${DLQ_SUFFIX}`) };
  }

  #base(name: string): string {
    const cleaned = name.replace(/\./g, '_');
    let out = cleaned.replace(/[^A-Za-z0-9_-]/g, '-');
    const room = MAX_QUEUE_NAME - FIFO_SUFFIX.length - DLQ_SUFFIX.length - this.#prefix.length;
    if (out !== cleaned || out.length > room) {
      const hash = createHash('sha256').update(name).digest('hex').slice(0, 8);
      out = `${out.slice(0, Math.max(1, room - hash.length - 1))}-${hash}`;
    }
    return `${this.#prefix}${out}`;
  }

  #finish(base: string): string {
    return this.#fifo ? `${base}${FIFO_SUFFIX}` : base;
  }
}

/**
 * SQS MessageGroupId / MessageDeduplicationId: up to 128 characters of alphanumerics and
 * punctuation. Valid values pass unchanged; anything else becomes its SHA-256 hex digest.
 */
export function toFifoId(value: string): string {
  if (value.length > 0 && value.length <= 128 && /^[\x21-\x7e]+$/.test(value)) return value;
  return createHash('sha256').update(value).digest('hex');
}
