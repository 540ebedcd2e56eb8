import type { ServiceBusClient, ServiceBusReceivedMessage, ServiceBusSender } from '@azure/service-bus';
import { cursorDeadLetterStore } from '@omnibus/core';
import Long from 'long';
import type { DeadLetterCursor, DeadLetterStore } from '@omnibus/core';
import { subscriptionName } from './entity-names.js';
import { bodyBytes, receivedWireHeaders, toReplayCopy } from './message-mapper.js';

/** What {@link azureDeadLetterStore} needs from the transport. */
export interface AzureDeadLetterDeps {
  /** The connected client (throws when not connected or closed). */
  client(): ServiceBusClient;
  /** Topic entity of a destination. */
  topic(destination: string): string;
  /** The transport's cached sender of a topic. */
  sender(client: ServiceBusClient, topic: string): ServiceBusSender;
}

const PEEK_PAGE = 250;
const RECEIVE_BATCH = 50;
const RECEIVE_WAIT_MS = 1_000;
/** Empty receives tolerated before a pass ends early. */
const EMPTY_RECEIVES = 2;

/**
 * Dead letters of an Azure Service Bus group live in its subscription's `$DeadLetterQueue`. A
 * pass peeks the sub-queue to learn what is there now (count and highest sequence number), then
 * receives those messages in peek-lock mode; removed ones are completed, the rest (and anything
 * that arrived later) are abandoned when the pass ends. Locks last the subscription's lock
 * duration, so one pass should finish within it. A replay sends the copy to the topic marked for
 * that subscription only (as a retry copy is), then completes the dead letter.
 */
export function azureDeadLetterStore(deps: AzureDeadLetterDeps): DeadLetterStore {
  return cursorDeadLetterStore({
    async open(destination, group): Promise<DeadLetterCursor> {
      const receiver = deps.client().createReceiver(deps.topic(destination), subscriptionName(group), {
        subQueueType: 'deadLetter',
        receiveMode: 'peekLock',
        skipParsingBodyAsJson: true,
      });
      let left = 0;
      let highest = -1n;
      // From the first message on (the SDK's own peek cursor is shared by every receiver of the entity).
      let from = Long.ZERO;
      for (;;) {
        const page = await receiver.peekMessages(PEEK_PAGE, { fromSequenceNumber: from });
        if (page.length === 0) break;
        left += page.length;
        for (const message of page) {
          const sequence = BigInt(message.sequenceNumber?.toString() ?? '-1');
          if (sequence > highest) highest = sequence;
        }
        from = Long.fromString((highest + 1n).toString());
      }
      const buffer: ServiceBusReceivedMessage[] = [];
      const held = new Set<ServiceBusReceivedMessage>();
      let empty = 0;
      let closed = false;
      return {
        async next() {
          while (buffer.length === 0) {
            if (left <= 0 || empty >= EMPTY_RECEIVES) return undefined;
            const batch = await receiver.receiveMessages(Math.min(RECEIVE_BATCH, left), {
              maxWaitTimeInMs: RECEIVE_WAIT_MS,
            });
            if (batch.length === 0) empty += 1;
            for (const message of batch) {
              held.add(message);
              // Dead-lettered after the pass began: leave it for the next pass.
              if (BigInt(message.sequenceNumber?.toString() ?? '-1') > highest) continue;
              left -= 1;
              buffer.push(message);
            }
          }
          const message = buffer.shift() as ServiceBusReceivedMessage;
          return {
            headers: receivedWireHeaders(message),
            payload: bodyBytes(message.body),
            ...(message.messageId === undefined ? {} : { brokerMessageId: String(message.messageId) }),
            ...(message.enqueuedTimeUtc === undefined ? {} : { enqueuedAt: message.enqueuedTimeUtc }),
            remove: async () => {
              await receiver.completeMessage(message);
              held.delete(message);
            },
          };
        },
        async close() {
          if (closed) return;
          closed = true;
          try {
            for (const message of held) await receiver.abandonMessage(message).catch(() => undefined);
          } finally {
            await receiver.close().catch(() => undefined);
          }
        },
      };
    },
    async republish(destination, group, headers, payload) {
      const client = deps.client();
      await deps
        .sender(client, deps.topic(destination))
        .sendMessages(toReplayCopy(headers, payload, subscriptionName(group)));
    },
  });
}
