import type { EventDefinition } from '../events/event-definition.js';
import type {
  InstrumentationEventName,
  InstrumentationListener,
  SettlementOutcome,
  SettlementReason,
} from '../instrumentation/instrumentation-events.js';
import type { MessageEnvelope } from '../message/envelope.js';

/** What a spy listens to: an `EventBus` (or anything with the same `on`). */
export interface InstrumentationSource {
  on<K extends InstrumentationEventName>(name: K, listener: InstrumentationListener<K>): () => void;
}

/** One observation of a {@link MessageSpy}. */
export interface SpyRecord {
  /** `published`, `received`, or the settlement outcome. */
  readonly kind: 'published' | 'received' | SettlementOutcome;
  readonly envelope: MessageEnvelope;
  /** Delivery attempt (1 for `published`). */
  readonly attempt: number;
  /** Group, for received/settled records. */
  readonly group?: string;
  /** Handler, for settled records where one was selected. */
  readonly handler?: string;
  readonly reason?: SettlementReason;
  readonly delayMs?: number;
  /** When the spy saw it (ms since epoch). */
  readonly at: number;
}

/** A {@link MessageSpy.waitFor} criterion: a predicate, or fields that must all match. */
export type SpyCriteria =
  | ((record: SpyRecord) => boolean)
  | {
      readonly id?: string;
      readonly type?: string | EventDefinition<unknown>;
      /** `published`, `received` or a settlement outcome. Default: any settlement outcome. */
      readonly outcome?: SpyRecord['kind'];
      readonly group?: string;
      readonly attempt?: number;
    };

/** Counts per kind. */
export type SpyCounts = Readonly<Record<SpyRecord['kind'], number>>;

/** Options of {@link MessageSpy}. */
export interface MessageSpyOptions {
  /** Records kept (oldest dropped first). Default 1000. Counts are never truncated. */
  readonly capacity?: number;
}

/**
 * Records what a bus publishes, receives and settles, so tests can await an outcome by id or
 * predicate instead of sleeping. Listens only to instrumentation, so it works with any
 * transport. Keeps a bounded buffer; `waitFor` looks at the buffer first, then at new records.
 * Call {@link dispose} when done.
 */
export class MessageSpy {
  readonly #records: SpyRecord[] = [];
  readonly #capacity: number;
  readonly #waiters = new Set<{
    match: (record: SpyRecord) => boolean;
    resolve: (record: SpyRecord) => void;
  }>();
  readonly #disposers: (() => void)[];
  readonly #counts: Record<SpyRecord['kind'], number> = {
    published: 0,
    received: 0,
    acked: 0,
    retried: 0,
    'dead-lettered': 0,
    discarded: 0,
    filtered: 0,
  };

  constructor(source: InstrumentationSource, options: MessageSpyOptions = {}) {
    this.#capacity = options.capacity ?? 1000;
    this.#disposers = [
      source.on('message.published', (e) =>
        this.#add({
          kind: 'published',
          envelope: e.envelope,
          attempt: 1,
          at: Date.now(),
          ...(e.delayMs === undefined ? {} : { delayMs: e.delayMs }),
        }),
      ),
      source.on('message.received', (e) =>
        this.#add({
          kind: 'received',
          envelope: e.envelope,
          attempt: e.attempt,
          group: e.group,
          at: Date.now(),
        }),
      ),
      source.on('message.settled', (e) =>
        this.#add({
          kind: e.outcome,
          envelope: e.envelope,
          attempt: e.attempt,
          group: e.group,
          at: Date.now(),
          ...(e.handler === undefined ? {} : { handler: e.handler }),
          ...(e.reason === undefined ? {} : { reason: e.reason }),
          ...(e.delayMs === undefined ? {} : { delayMs: e.delayMs }),
        }),
      ),
    ];
  }

  /** Records currently buffered, oldest first. */
  get records(): readonly SpyRecord[] {
    return [...this.#records];
  }

  /** Totals per kind since creation (or {@link clear}). */
  get counts(): SpyCounts {
    return { ...this.#counts };
  }

  /** Buffered records matching `criteria`. */
  filter(criteria: SpyCriteria): SpyRecord[] {
    const match = toMatcher(criteria);
    return this.#records.filter(match);
  }

  /**
   * Resolve with the first record (buffered or future) matching `criteria`. Rejects after
   * `timeoutMs` (default 5000) with an Error describing what was awaited and what was seen.
   */
  waitFor(criteria: SpyCriteria, options: { readonly timeoutMs?: number } = {}): Promise<SpyRecord> {
    const match = toMatcher(criteria);
    const existing = this.#records.find(match);
    if (existing !== undefined) return Promise.resolve(existing);
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (record: SpyRecord) => {
          clearTimeout(timer);
          this.#waiters.delete(waiter);
          resolve(record);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(waiter);
        const seen = this.#records
          .slice(-10)
          .map((r) => `${r.kind} ${r.envelope.type}#${r.envelope.id} (attempt ${String(r.attempt)})`);
        reject(
          new Error(
            `MessageSpy: nothing matched ${describe(criteria)} within ${String(timeoutMs)} ms; last seen: ${seen.join(', ') || 'nothing'}`,
          ),
        );
      }, timeoutMs);
      this.#waiters.add(waiter);
    });
  }

  /** Empty the buffer and reset counts. Pending waiters keep waiting. */
  clear(): void {
    this.#records.splice(0);
    for (const key of Object.keys(this.#counts) as SpyRecord['kind'][]) this.#counts[key] = 0;
  }

  /** Stop listening. Idempotent. */
  dispose(): void {
    for (const dispose of this.#disposers.splice(0)) dispose();
  }

  #add(record: SpyRecord): void {
    this.#counts[record.kind] += 1;
    this.#records.push(record);
    if (this.#records.length > this.#capacity) this.#records.splice(0, this.#records.length - this.#capacity);
    for (const waiter of [...this.#waiters]) {
      if (waiter.match(record)) waiter.resolve(record);
    }
  }
}

const SETTLED = new Set<SpyRecord['kind']>(['acked', 'retried', 'dead-lettered', 'discarded', 'filtered']);

function toMatcher(criteria: SpyCriteria): (record: SpyRecord) => boolean {
  if (typeof criteria === 'function') return criteria;
  const type = typeof criteria.type === 'object' ? criteria.type.name : criteria.type;
  return (record) =>
    (criteria.id === undefined || record.envelope.id === criteria.id) &&
    (type === undefined || record.envelope.type === type) &&
    (criteria.outcome === undefined ? SETTLED.has(record.kind) : record.kind === criteria.outcome) &&
    (criteria.group === undefined || record.group === criteria.group) &&
    (criteria.attempt === undefined || record.attempt === criteria.attempt);
}

function describe(criteria: SpyCriteria): string {
  if (typeof criteria === 'function') return 'the predicate';
  const type = typeof criteria.type === 'object' ? criteria.type.name : criteria.type;
  return JSON.stringify({ ...criteria, type });
}
