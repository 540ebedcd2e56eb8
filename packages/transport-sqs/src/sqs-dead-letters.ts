import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ErrorCodes, cursorDeadLetterStore } from '@omnibus/core';
import type { DeadLetterCursor, DeadLetterStore, ScannedDeadLetter } from '@omnibus/core';
import type { SqsDirectory } from './sqs-directory.js';
import { decodeWireMessage, encodeWireMessage } from './sqs-message-codec.js';
import type { SqsQueueNames } from './sqs-naming.js';

/** What {@link sqsDeadLetterStore} needs from the transport. */
export interface SqsDeadLetterDeps {
  readonly sqs: SQSClient;
  readonly directory: SqsDirectory;
  /** Queue names of one (destination, group), as the transport names them. */
  queues(destination: string, group: string): SqsQueueNames;
  /** Throws when the transport is closed. */
  assertOpen(): void;
}

/** How long a pass hides the messages it holds from other readers. */
const HOLD_SECONDS = 120;
/** Empty receives tolerated before a pass ends early (SQS short polling samples servers). */
const EMPTY_RECEIVES = 3;

/**
 * Dead letters of an SQS group live in its `-dlq` queue. A pass first reads the queue's
 * approximate size, then receives up to that many messages, hiding each for
 * {@link HOLD_SECONDS}; removed ones are deleted, the rest are made visible again
 * (`ChangeMessageVisibility 0`) when the pass ends. A replay sends the copy straight to the
 * group's own queue (no other group gets it), then deletes the dead letter. Standard queues
 * only: a FIFO queue hands out one message per message group at a time, so a pass could not
 * see past the first dead letter of a partition key.
 */
export function sqsDeadLetterStore(deps: SqsDeadLetterDeps): DeadLetterStore {
  return cursorDeadLetterStore({
    async open(destination, group): Promise<DeadLetterCursor> {
      deps.assertOpen();
      const names = deps.queues(destination, group);
      const url = await deps.directory.queueUrl(names.deadLetterQueue, ErrorCodes.DEAD_LETTER_FAILED);
      const attributes = await deps.sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
      );
      let left = Number(attributes.Attributes?.ApproximateNumberOfMessages ?? '0');
      const buffer: Message[] = [];
      const held = new Set<string>();
      let empty = 0;
      let closed = false;
      const scanned = (message: Message): ScannedDeadLetter => {
        const decoded = decodeWireMessage(message.Body, message.MessageAttributes);
        const sent = Number(message.Attributes?.SentTimestamp);
        const receipt = message.ReceiptHandle ?? '';
        return {
          headers: decoded.headers,
          payload: decoded.payload,
          ...(message.MessageId === undefined ? {} : { brokerMessageId: message.MessageId }),
          ...(Number.isFinite(sent) ? { enqueuedAt: new Date(sent) } : {}),
          remove: async () => {
            await deps.sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: receipt }));
            held.delete(receipt);
          },
        };
      };
      return {
        async next() {
          while (buffer.length === 0) {
            if (left <= 0 || empty >= EMPTY_RECEIVES) return undefined;
            const out = await deps.sqs.send(
              new ReceiveMessageCommand({
                QueueUrl: url,
                MaxNumberOfMessages: Math.min(10, left),
                VisibilityTimeout: HOLD_SECONDS,
                WaitTimeSeconds: empty === 0 ? 0 : 1,
                MessageAttributeNames: ['All'],
                MessageSystemAttributeNames: ['SentTimestamp'],
              }),
            );
            const messages = out.Messages ?? [];
            if (messages.length === 0) empty += 1;
            left -= messages.length;
            // Everything received is held (and given back on close), handed out or not.
            for (const message of messages) held.add(message.ReceiptHandle ?? '');
            buffer.push(...messages);
          }
          return scanned(buffer.shift() as Message);
        },
        async close() {
          if (closed) return;
          closed = true;
          const receipts = [...held.values()];
          for (let i = 0; i < receipts.length; i += 10) {
            await deps.sqs.send(
              new ChangeMessageVisibilityBatchCommand({
                QueueUrl: url,
                Entries: receipts.slice(i, i + 10).map((ReceiptHandle, index) => ({
                  Id: String(index),
                  ReceiptHandle,
                  VisibilityTimeout: 0,
                })),
              }),
            );
          }
        },
      };
    },
    async republish(destination, group, headers, payload) {
      deps.assertOpen();
      const names = deps.queues(destination, group);
      const url = await deps.directory.queueUrl(names.queue, ErrorCodes.DEAD_LETTER_FAILED);
      const wire = encodeWireMessage(headers, payload);
      await deps.sqs.send(
        new SendMessageCommand({ QueueUrl: url, MessageBody: wire.body, MessageAttributes: wire.attributes }),
      );
    },
  });
}
