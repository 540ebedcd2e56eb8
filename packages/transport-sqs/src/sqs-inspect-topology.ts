import { ListTopicsCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ErrorCodes, type TopologyInspection, type TopologyItem, type TopologySpec } from '@omnibus/core';
import { isQueueMissing, toOmnibusError } from './sqs-error-mapper.js';
import type { SqsNaming } from './sqs-naming.js';

/** What {@link inspectSqsTopology} needs from its transport. */
export interface SqsTopologyInspector {
  readonly sqs: SQSClient;
  readonly sns: SNSClient | undefined;
  readonly naming: SqsNaming;
  readonly fanOut: string;
}

/**
 * Which objects of `topology` exist, asked of SQS and SNS each time (never from the transport's
 * name cache, which remembers what it provisioned); creates nothing. With fanOut "sns" a
 * destination is its SNS topic and each group has its own queue and dead-letter queue; with
 * fanOut "none" a destination is its one queue, which its group consumes, with one dead-letter
 * queue. Rejects with `PROVISIONING_FAILED` when SQS or SNS cannot be asked.
 */
export async function inspectSqsTopology(
  deps: SqsTopologyInspector,
  topology: TopologySpec,
): Promise<TopologyInspection> {
  const perGroup = deps.fanOut === 'sns';
  const state = (present: boolean): TopologyItem['state'] => (present ? 'present' : 'missing');
  const items: TopologyItem[] = [];
  for (const { name: destination, groups } of topology.destinations) {
    if (perGroup) {
      const topic = deps.naming.topic(destination);
      items.push({
        kind: 'destination',
        destination,
        nativeName: topic,
        state: state(await topicExists(deps, topic)),
      });
    } else {
      const queue = deps.naming.queues(destination, '', false).queue;
      items.push({
        kind: 'destination',
        destination,
        nativeName: queue,
        state: state(await queueExists(deps, queue)),
      });
    }
    for (const { name: group } of groups) {
      const names = deps.naming.queues(destination, group, perGroup);
      for (const [kind, nativeName] of [
        ['group', names.queue],
        ['dead-letter', names.deadLetterQueue],
      ] as const) {
        items.push({
          kind,
          destination,
          group,
          nativeName,
          state: state(await queueExists(deps, nativeName)),
        });
      }
    }
  }
  return { items };
}

async function queueExists(deps: SqsTopologyInspector, name: string): Promise<boolean> {
  try {
    await deps.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
    return true;
  } catch (error) {
    if (isQueueMissing(error)) return false;
    throw toOmnibusError(error, ErrorCodes.PROVISIONING_FAILED, `Looking up SQS queue "${name}"`);
  }
}

async function topicExists(deps: SqsTopologyInspector, name: string): Promise<boolean> {
  const sns = deps.sns;
  if (sns === undefined) return false;
  try {
    let next: string | undefined;
    do {
      const page = await sns.send(new ListTopicsCommand(next === undefined ? {} : { NextToken: next }));
      if (page.Topics?.some((t) => t.TopicArn?.endsWith(`:${name}`) === true) === true) return true;
      next = page.NextToken;
    } while (next !== undefined && next !== '');
    return false;
  } catch (error) {
    throw toOmnibusError(error, ErrorCodes.PROVISIONING_FAILED, `Looking up SNS topic "${name}"`);
  }
}
