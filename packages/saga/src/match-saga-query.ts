import type { SagaRecord } from './saga-record.js';
import type { SagaQuery } from './saga-store.js';

/** Default and largest `limit` of a saga query. */
export const DEFAULT_SAGA_QUERY_LIMIT = 100;

/** True when `record` matches every field given in `query`. Pure; for stores that filter in memory. */
export function matchesSagaQuery(record: SagaRecord, query: SagaQuery): boolean {
  if (query.saga !== undefined && record.saga !== query.saga) return false;
  if (query.id !== undefined && record.id !== query.id) return false;
  if (query.status !== undefined) {
    const wanted: readonly string[] = typeof query.status === 'string' ? [query.status] : query.status;
    if (!wanted.includes(record.status)) return false;
  }
  if (query.updatedBefore !== undefined && Date.parse(record.updatedAt) >= query.updatedBefore.getTime())
    return false;
  if (query.timeoutDueBefore !== undefined) {
    const before = query.timeoutDueBefore.getTime();
    if (!record.timeouts.some((t) => Date.parse(t.dueAt) < before)) return false;
  }
  if (query.timedOut !== undefined && record.timedOut !== query.timedOut) return false;
  if (query.pending !== undefined && record.pending.length > 0 !== query.pending) return false;
  return true;
}
