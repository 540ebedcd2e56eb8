import { matchesSagaQuery, DEFAULT_SAGA_QUERY_LIMIT } from './match-saga-query.js';
import type { SagaRecord } from './saga-record.js';
import type { SagaChange, SagaQuery, SagaStore } from './saga-store.js';

/**
 * The default {@link SagaStore}: instances in a `Map` of this process, compare-and-set on the
 * version. Lost when the process exits, and not shared between processes: use it for tests and
 * single-process services whose sagas may restart from scratch; use `PostgresSagaStore` when
 * instances must survive a crash or several consumers share them. Records are copied in and
 * out (structured clone), so callers never share objects with the store.
 */
export class InMemorySagaStore implements SagaStore {
  readonly writesMessages = false;
  readonly #records = new Map<string, SagaRecord>();

  /** {@inheritDoc SagaStore.load} */
  load(saga: string, id: string): Promise<SagaRecord | undefined> {
    const record = this.#records.get(key(saga, id));
    return Promise.resolve(record === undefined ? undefined : structuredClone(record));
  }

  /** {@inheritDoc SagaStore.save} */
  save(change: SagaChange): Promise<'saved' | 'conflict'> {
    const k = key(change.record.saga, change.record.id);
    const current = this.#records.get(k);
    if ((current?.version ?? 0) !== change.expectedVersion) return Promise.resolve('conflict');
    const added =
      change.pending.length > 0 ? [{ version: change.record.version, messages: change.pending }] : [];
    this.#records.set(
      k,
      structuredClone({ ...change.record, pending: [...(current?.pending ?? []), ...added] }),
    );
    return Promise.resolve('saved');
  }

  /** {@inheritDoc SagaStore.markDispatched} */
  markDispatched(saga: string, id: string, version: number): Promise<void> {
    const k = key(saga, id);
    const current = this.#records.get(k);
    if (current?.pending.some((p) => p.version === version) === true)
      this.#records.set(k, { ...current, pending: current.pending.filter((p) => p.version !== version) });
    return Promise.resolve();
  }

  /** {@inheritDoc SagaStore.find} */
  find(query: SagaQuery): Promise<SagaRecord[]> {
    const limit = Math.min(query.limit ?? DEFAULT_SAGA_QUERY_LIMIT, DEFAULT_SAGA_QUERY_LIMIT * 100);
    const found = [...this.#records.values()]
      .filter((r) => matchesSagaQuery(r, query))
      .sort((a, b) => Date.parse(a.updatedAt) - Date.parse(b.updatedAt))
      .slice(0, limit);
    return Promise.resolve(found.map((r) => structuredClone(r)));
  }
}

const key = (saga: string, id: string): string => `${saga}\u0000${id}`;
