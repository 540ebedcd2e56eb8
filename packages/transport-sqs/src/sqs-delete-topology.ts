import { DeleteTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import { DeleteQueueCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ErrorCodes, isOmnibusError, type TopologySpec } from '@omnibus/core';
import type { SqsDirectory } from './sqs-directory.js';
import { isQueueMissing, isTopicMissing, toOmnibusError } from './sqs-error-mapper.js';
import type { SqsNaming } from './sqs-naming.js';

/** What {@link deleteSqsTopology} needs from its transport. */
export interface SqsTopologyDeleter {
  readonly sqs: SQSClient;
  readonly sns: SNSClient | undefined;
  readonly naming: SqsNaming;
  readonly directory: SqsDirectory;
  readonly fanOut: string;
}

/**
 * Delete the objects of `topology`: each group's queue and dead-letter queue (with their
 * messages), then, with fanOut "sns", the destination's topic (which removes its
 * subscriptions). Objects that do not exist are skipped, so this is idempotent. Used for a
 * bus's per-instance reply destination at stop. Rejects with `PROVISIONING_FAILED` when SQS or
 * SNS refused.
 */
export async function deleteSqsTopology(deps: SqsTopologyDeleter, topology: TopologySpec): Promise<void> {
  const perGroup = deps.fanOut === 'sns';
  for (const destination of topology.destinations) {
    const groups = perGroup ? destination.groups : destination.groups.slice(0, 1);
    for (const group of groups) {
      const names = deps.naming.queues(destination.name, group.name, perGroup);
      await deleteQueue(deps, names.queue);
      await deleteQueue(deps, names.deadLetterQueue);
    }
    if (perGroup) await deleteTopic(deps, deps.naming.topic(destination.name));
  }
}

async function deleteQueue(deps: SqsTopologyDeleter, name: string): Promise<void> {
  let url: string;
  try {
    url = await deps.directory.queueUrl(name, ErrorCodes.PROVISIONING_FAILED);
  } catch (error) {
    if (isQueueMissing(isOmnibusError(error) ? error.cause : error)) return;
    throw error;
  }
  try {
    await deps.sqs.send(new DeleteQueueCommand({ QueueUrl: url }));
  } catch (error) {
    if (!isQueueMissing(error))
      throw toOmnibusError(error, ErrorCodes.PROVISIONING_FAILED, `Deleting SQS queue "${name}"`);
  } finally {
    deps.directory.forgetQueue(name);
  }
}

async function deleteTopic(deps: SqsTopologyDeleter, name: string): Promise<void> {
  const sns = deps.sns;
  if (sns === undefined) return;
  let arn: string;
  try {
    arn = await deps.directory.topicArn(name, ErrorCodes.PROVISIONING_FAILED);
  } catch (error) {
    // The look-up says "does not exist" with an error of its own (no SDK cause).
    if (isOmnibusError(error) && (error.cause === undefined || isTopicMissing(error.cause))) return;
    throw error;
  }
  try {
    await sns.send(new DeleteTopicCommand({ TopicArn: arn }));
  } catch (error) {
    if (!isTopicMissing(error))
      throw toOmnibusError(error, ErrorCodes.PROVISIONING_FAILED, `Deleting SNS topic "${name}"`);
  } finally {
    deps.directory.forgetTopic(name);
  }
}
