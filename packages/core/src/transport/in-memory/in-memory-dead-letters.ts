import { cursorDeadLetterStore } from '../../dead-letter/cursor-dead-letter-store.js';
import type { DeadLetterCursor } from '../../dead-letter/cursor-dead-letter-store.js';
import type { DeadLetterStore } from '../../dead-letter/dead-letter-store.js';
import type { InMemoryBroker } from './in-memory-broker.js';

/**
 * The in-memory transport's {@link DeadLetterStore}: a pass is a snapshot of the group's
 * dead-letter queue (records dead-lettered during the pass are left for the next one), and a
 * replay enqueues the copy for that group only.
 */
export function inMemoryDeadLetterStore(broker: InMemoryBroker): DeadLetterStore {
  return cursorDeadLetterStore({
    open(destination, group): Promise<DeadLetterCursor> {
      const target = broker.group(destination, group);
      const records = target.deadLetterSnapshot();
      let index = 0;
      return Promise.resolve({
        next() {
          const record = records[index];
          index += 1;
          if (record === undefined) return Promise.resolve(undefined);
          return Promise.resolve({
            headers: record.headers,
            payload: record.payload.slice(),
            brokerMessageId: record.brokerMessageId,
            enqueuedAt: record.enqueuedAt,
            remove: () => {
              target.removeDeadLetter(record);
              return Promise.resolve();
            },
          });
        },
        close: () => Promise.resolve(),
      });
    },
    republish(destination, group, headers, payload) {
      broker.enqueueForGroup(destination, group, headers, payload);
      return Promise.resolve();
    },
  });
}
