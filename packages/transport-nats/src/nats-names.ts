import { createHash } from 'node:crypto';

/** Longest encoded name token before it is shortened with a hash (stream names become directories). */
const MAX_TOKEN = 100;

/**
 * Encode an Omnibus name (destination or group) as one NATS name token: `[A-Za-z0-9_-]` stay,
 * every other byte of its UTF-8 form becomes `~XX` (upper-case hex), so `orders.placed.v1` is
 * `orders~2Eplaced~2Ev1`. Valid in subjects, stream names and consumer names alike; injective
 * (distinct names never share a token). Over 100 characters the token is cut and suffixed with a
 * hash of the full name. Pure.
 */
export function encodeNameToken(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const char = String.fromCharCode(byte);
    out += /[A-Za-z0-9_-]/.test(char) ? char : `~${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (out.length <= MAX_TOKEN) return out;
  const hash = createHash('sha256').update(name).digest('hex').slice(0, 16);
  return `${out.slice(0, MAX_TOKEN - 18)}~h${hash}`;
}

/** FNV-1a (32-bit) of a string's UTF-8 bytes: the stable partition hash. Pure. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of Buffer.from(text, 'utf8')) {
    hash ^= byte;
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash;
}

/**
 * Naming of everything the NATS transport creates, for one prefix:
 *
 * - one stream per destination, `<prefix>_<destination>`, capturing `<prefix>.<destination>.>`;
 *   messages are published to `<prefix>.<destination>.p<n>`, n = hash(partition key) mod
 *   `partitions` (messages without a key hash their id);
 * - per unordered group one durable pull consumer `<group>` on the whole stream; per ordered
 *   group one durable `<group>~p<n>` per partition subject;
 * - one dead-letter stream per prefix, `<prefix>_dead-letters`, capturing
 *   `<prefix>.~dlq.>`; a group's dead letters go to `<prefix>.~dlq.<destination>.<group>`;
 * - one delay stream per prefix, `<prefix>_delays`, capturing `<prefix>.~delay.>`: a delayed
 *   message waits at `<prefix>.~delay.<destination>` until the durable consumer `forwarder`
 *   (shared by every transport of the prefix) moves it to its destination once due.
 *
 * Names are encoded with {@link encodeNameToken}, so any destination or group name is valid.
 */
export class NatsNames {
  readonly #prefix: string;
  readonly #partitions: number;

  constructor(prefix: string, partitions: number) {
    this.#prefix = prefix;
    this.#partitions = partitions;
  }

  /** The prefix every name starts with. */
  get prefix(): string {
    return this.#prefix;
  }

  /** Number of partition subjects per destination. */
  get partitions(): number {
    return this.#partitions;
  }

  /** Stream of a destination. */
  stream(destination: string): string {
    return `${this.#prefix}_${encodeNameToken(destination)}`;
  }

  /** Subjects a destination's stream captures. */
  streamSubjects(destination: string): string {
    return `${this.#prefix}.${encodeNameToken(destination)}.>`;
  }

  /** Subject of partition `partition` of a destination. */
  partitionSubject(destination: string, partition: number): string {
    return `${this.#prefix}.${encodeNameToken(destination)}.p${String(partition)}`;
  }

  /** Partition a message belongs to: its key's hash, else its id's. */
  partitionOf(partitionKey: string | undefined, id: string): number {
    return fnv1a(partitionKey ?? id) % this.#partitions;
  }

  /** Durable consumer of an unordered group. */
  groupConsumer(group: string): string {
    return encodeNameToken(group);
  }

  /** Durable consumer of one partition of an ordered group. */
  orderedConsumer(group: string, partition: number): string {
    return `${encodeNameToken(group)}~p${String(partition)}`;
  }

  /** Every durable consumer of a group. */
  consumers(group: string, ordered: boolean): string[] {
    if (!ordered) return [this.groupConsumer(group)];
    return Array.from({ length: this.#partitions }, (_, n) => this.orderedConsumer(group, n));
  }

  /** The one dead-letter stream of this prefix. */
  deadLetterStream(): string {
    return `${this.#prefix}_dead-letters`;
  }

  /** Subjects the dead-letter stream captures. */
  deadLetterStreamSubjects(): string {
    return `${this.#prefix}.~dlq.>`;
  }

  /** Subject of one group's dead letters. */
  deadLetterSubject(destination: string, group: string): string {
    return `${this.#prefix}.~dlq.${encodeNameToken(destination)}.${encodeNameToken(group)}`;
  }

  /** The one delay stream of this prefix (delayed messages wait there until due). */
  delayStream(): string {
    return `${this.#prefix}_delays`;
  }

  /** Subjects the delay stream captures. */
  delayStreamSubjects(): string {
    return `${this.#prefix}.~delay.>`;
  }

  /** Subject of the delayed messages bound for one destination. */
  delaySubject(destination: string): string {
    return `${this.#prefix}.~delay.${encodeNameToken(destination)}`;
  }

  /** The durable consumer of the delay stream every transport of the prefix pulls from (competing). */
  delayConsumer(): string {
    return 'forwarder';
  }
}
