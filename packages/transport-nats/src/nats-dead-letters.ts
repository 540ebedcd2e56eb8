import type { JetStreamManager, MsgRequest } from '@nats-io/jetstream';
import { cursorDeadLetterStore } from '@omnibus/core';
import type { DeadLetterCursor, DeadLetterStore } from '@omnibus/core';
import { JetStreamErrorCodes, jetStreamErrorCode } from './nats-error-mapper.js';
import { fromNatsHeaders } from './nats-message-mapper.js';
import type { NatsNames } from './nats-names.js';

/** Header of a replayed copy naming the one group that handles it (the others ack it unhandled). */
export const REPLAY_GROUP_HEADER = 'omnibus-replay-group';

/** What {@link natsDeadLetterStore} needs from the transport. */
export interface NatsDeadLetterDeps {
  readonly names: NatsNames;
  /** The JetStream manager of the live connection (connects first). */
  manager(): Promise<JetStreamManager>;
  /** Publish a replayed copy to the destination (PubAck awaited), with exactly these wire headers. */
  republish(destination: string, headers: Record<string, string>, payload: Uint8Array): Promise<void>;
}

/**
 * Dead letters of a NATS group are the messages on its subject `<prefix>.~dlq.<destination>.<group>`
 * of the prefix's dead-letter stream. A pass reads them one at a time by subject
 * (`STREAM.MSG.GET` with `next_by_subj`, non-destructive), up to the stream's last sequence when
 * the pass began (copies dead-lettered meanwhile wait for the next pass); removing one deletes it
 * from the stream by sequence. Nothing is held, so nothing is given back at close.
 *
 * A replay publishes the copy to the destination's stream with {@link REPLAY_GROUP_HEADER} naming
 * the group: JetStream 2.9 consumers filter on one subject, so every group of the destination
 * receives the copy, and the others acknowledge it without handling it.
 */
export function natsDeadLetterStore(deps: NatsDeadLetterDeps): DeadLetterStore {
  return cursorDeadLetterStore({
    async open(destination, group): Promise<DeadLetterCursor> {
      const jsm = await deps.manager();
      const stream = deps.names.deadLetterStream();
      const subject = deps.names.deadLetterSubject(destination, group);
      let last: number;
      try {
        last = (await jsm.streams.info(stream)).state.last_seq;
      } catch (error) {
        // No dead-letter stream yet: nothing was ever dead-lettered under this prefix.
        if (jetStreamErrorCode(error) === JetStreamErrorCodes.STREAM_NOT_FOUND) last = 0;
        else throw error;
      }
      let seq = 1;
      return {
        async next() {
          if (seq > last) return undefined;
          // STREAM.MSG.GET accepts next_by_subj (server 2.9+); the client's type lists only seq/last_by_subj.
          const query = { next_by_subj: subject, seq } as unknown as MsgRequest;
          // null: no message of the subject at or after seq.
          const stored = await jsm.streams.getMessage(stream, query);
          if (stored === null || stored.seq > last) return undefined;
          seq = stored.seq + 1;
          const found = stored.seq;
          return {
            headers: fromNatsHeaders(stored.header),
            payload: stored.data,
            brokerMessageId: `${stream}:${String(found)}`,
            enqueuedAt: stored.time,
            remove: async () => {
              await jsm.streams.deleteMessage(stream, found, false);
            },
          };
        },
        close() {
          return Promise.resolve();
        },
      };
    },
    republish(destination, group, headers, payload) {
      return deps.republish(destination, { ...headers, [REPLAY_GROUP_HEADER]: group }, payload);
    },
  });
}
