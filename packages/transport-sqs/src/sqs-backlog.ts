import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ErrorCodes, isOmnibusError, type BacklogReading } from '@omnibus/core';
import type { SqsDirectory } from './sqs-directory.js';
import { toOmnibusError } from './sqs-error-mapper.js';

/** The queue attributes summed into a backlog reading. */
export const BACKLOG_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
] as const;

/**
 * The group queue's approximate depth: visible + in flight (received, or waiting for a retry
 * as a visibility change) + delayed, from one `GetQueueAttributes`. SQS documents these counts
 * as approximate and eventually consistent (a value may trail the queue by up to a minute on
 * Amazon SQS), so the reading is flagged `approximate`. Rejects with `BACKLOG_UNAVAILABLE`.
 */
export async function readSqsBacklog(
  sqs: SQSClient,
  directory: SqsDirectory,
  queue: string,
  destination: string,
  group: string,
): Promise<BacklogReading> {
  try {
    const url = await directory.queueUrl(queue, ErrorCodes.BACKLOG_UNAVAILABLE);
    const out = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...BACKLOG_ATTRIBUTES] }),
    );
    let messages = 0;
    for (const name of BACKLOG_ATTRIBUTES) messages += Number(out.Attributes?.[name] ?? 0);
    return { destination, group, messages, kind: 'approximate', approximate: true };
  } catch (error) {
    if (isOmnibusError(error) && error.code === ErrorCodes.BACKLOG_UNAVAILABLE) throw error;
    throw toOmnibusError(error, ErrorCodes.BACKLOG_UNAVAILABLE, `Reading the depth of SQS queue "${queue}"`);
  }
}
