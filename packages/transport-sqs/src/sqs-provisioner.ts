import {
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  SubscribeCommand,
  type SNSClient,
} from '@aws-sdk/client-sns';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SetQueueAttributesCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ErrorCodes, OmnibusError, type DestinationSpec, type TopologySpec } from '@omnibus/core';
import type { SqsDirectory } from './sqs-directory.js';
import { isQueueNameTaken, isTopicMissing, toOmnibusError } from './sqs-error-mapper.js';
import type { SqsNaming } from './sqs-naming.js';
import type { SqsTransportOptions } from './sqs-options.js';

type ProvisionOptions = Pick<
  SqsTransportOptions,
  | 'fifo'
  | 'fanOut'
  | 'provisioning'
  | 'visibilityTimeoutSeconds'
  | 'maxReceiveCount'
  | 'deadLetterRetentionSeconds'
>;

/**
 * Creates (mode "create") or checks (mode "verify") what a topology needs on SQS/SNS:
 * per group queue + dead-letter queue + redrive policy, and with fanOut "sns" the destination's
 * topic and a raw-delivery subscription per group queue. Idempotent; collects every problem
 * and throws one `PROVISIONING_FAILED` error listing them.
 */
export class SqsProvisioner {
  readonly #sqs: SQSClient;
  readonly #sns: SNSClient | undefined;
  readonly #naming: SqsNaming;
  readonly #directory: SqsDirectory;
  readonly #options: ProvisionOptions;

  constructor(deps: {
    sqs: SQSClient;
    sns: SNSClient | undefined;
    naming: SqsNaming;
    directory: SqsDirectory;
    options: ProvisionOptions;
  }) {
    this.#sqs = deps.sqs;
    this.#sns = deps.sns;
    this.#naming = deps.naming;
    this.#directory = deps.directory;
    this.#options = deps.options;
  }

  /** Provision every destination of `topology`. */
  async provision(topology: TopologySpec): Promise<void> {
    this.#checkCapabilities(topology);
    const problems: string[] = [];
    let firstCause: unknown;
    await Promise.all(
      topology.destinations.map(async (destination) => {
        try {
          await this.#destination(destination, problems);
        } catch (error) {
          firstCause ??= error;
          problems.push(
            toOmnibusError(error, ErrorCodes.PROVISIONING_FAILED, `destination "${destination.name}"`)
              .message,
          );
        }
      }),
    );
    if (problems.length > 0) {
      throw new OmnibusError(
        ErrorCodes.PROVISIONING_FAILED,
        `SQS provisioning (${this.#options.provisioning}) failed:\n- ${problems.join('\n- ')}`,
        {
          retriable: false,
          cause: firstCause,
        },
      );
    }
  }

  #checkCapabilities(topology: TopologySpec): void {
    if (this.#options.fanOut !== 'none') return;
    const shared = topology.destinations.filter((d) => new Set(d.groups.map((g) => g.name)).size > 1);
    if (shared.length === 0) return;
    const list = shared
      .map((d) => `"${d.name}" (groups ${d.groups.map((g) => g.name).join(', ')})`)
      .join('; ');
    throw new OmnibusError(
      ErrorCodes.CAPABILITY_MISSING,
      `SQS with fanOut "none" gives each destination one queue consumed by one group, but ${list} need fan-out: set fanOut "sns"`,
    );
  }

  async #destination(destination: DestinationSpec, problems: string[]): Promise<void> {
    if (this.#options.fanOut === 'none') {
      const group = destination.groups[0]?.name ?? '';
      await this.#groupQueues(destination.name, group, undefined, problems);
      return;
    }
    const topicArn = await this.#topic(destination.name, problems);
    if (topicArn === undefined) return;
    for (const group of destination.groups) {
      await this.#groupQueues(destination.name, group.name, topicArn, problems);
    }
  }

  async #topic(destination: string, problems: string[]): Promise<string | undefined> {
    const name = this.#naming.topic(destination);
    const attributes: Record<string, string> = this.#options.fifo
      ? { FifoTopic: 'true', ContentBasedDeduplication: 'false' }
      : {};
    try {
      const arn = await this.#directory.topicArn(
        name,
        ErrorCodes.PROVISIONING_FAILED,
        this.#options.provisioning === 'create' ? attributes : undefined,
      );
      this.#directory.rememberTopic(name, arn);
      return arn;
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }

  async #groupQueues(
    destination: string,
    group: string,
    topicArn: string | undefined,
    problems: string[],
  ): Promise<void> {
    const names = this.#naming.queues(destination, group, topicArn !== undefined);
    const create = this.#options.provisioning === 'create';
    const dlqUrl = create
      ? await this.#createQueue(names.deadLetterQueue, {
          MessageRetentionPeriod: String(this.#options.deadLetterRetentionSeconds),
        })
      : await this.#existingQueue(names.deadLetterQueue, problems);
    const queueUrl = create
      ? await this.#createQueue(names.queue, {})
      : await this.#existingQueue(names.queue, problems);
    if (dlqUrl === undefined || queueUrl === undefined) return;
    const [dlqArn, queueArn] = await Promise.all([
      this.#directory.queueArn(dlqUrl),
      this.#directory.queueArn(queueUrl),
    ]);
    const redrive = JSON.stringify({
      deadLetterTargetArn: dlqArn,
      maxReceiveCount: String(this.#options.maxReceiveCount),
    });
    if (create) {
      const attributes: Record<string, string> = {
        RedrivePolicy: redrive,
        VisibilityTimeout: String(this.#options.visibilityTimeoutSeconds),
      };
      if (topicArn !== undefined) attributes.Policy = snsDeliveryPolicy(queueArn, topicArn);
      await this.#sqs.send(new SetQueueAttributesCommand({ QueueUrl: queueUrl, Attributes: attributes }));
      if (topicArn !== undefined) await this.#subscribe(topicArn, queueArn);
    } else {
      await this.#verifyRedrive(names.queue, queueUrl, dlqArn, problems);
      if (topicArn !== undefined) await this.#verifySubscription(topicArn, queueArn, names.queue, problems);
    }
  }

  async #createQueue(name: string, extra: Record<string, string>): Promise<string> {
    const attributes: Record<string, string> = this.#options.fifo ? { FifoQueue: 'true' } : {};
    let url: string | undefined;
    try {
      url = (await this.#sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes })))
        .QueueUrl;
    } catch (error) {
      if (!isQueueNameTaken(error)) throw error;
    }
    url ??= await this.#directory.queueUrl(name, ErrorCodes.PROVISIONING_FAILED);
    if (Object.keys(extra).length > 0)
      await this.#sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: extra }));
    this.#directory.rememberQueue(name, url);
    return url;
  }

  async #existingQueue(name: string, problems: string[]): Promise<string | undefined> {
    try {
      return await this.#directory.queueUrl(name, ErrorCodes.PROVISIONING_FAILED);
    } catch (error) {
      problems.push(error instanceof Error ? error.message : String(error));
      return undefined;
    }
  }

  async #verifyRedrive(name: string, queueUrl: string, dlqArn: string, problems: string[]): Promise<void> {
    const out = await this.#sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['RedrivePolicy'] }),
    );
    const raw = out.Attributes?.RedrivePolicy;
    const target =
      raw === undefined
        ? undefined
        : (JSON.parse(raw) as { deadLetterTargetArn?: string }).deadLetterTargetArn;
    if (target !== dlqArn)
      problems.push(`SQS queue "${name}" has no redrive policy to ${dlqArn} (found ${raw ?? 'none'})`);
  }

  async #subscribe(topicArn: string, queueArn: string): Promise<void> {
    const sns = this.#requireSns();
    await sns.send(
      new SubscribeCommand({
        TopicArn: topicArn,
        Protocol: 'sqs',
        Endpoint: queueArn,
        Attributes: { RawMessageDelivery: 'true' },
        ReturnSubscriptionArn: true,
      }),
    );
  }

  async #verifySubscription(
    topicArn: string,
    queueArn: string,
    queueName: string,
    problems: string[],
  ): Promise<void> {
    const sns = this.#requireSns();
    try {
      await sns.send(new GetTopicAttributesCommand({ TopicArn: topicArn }));
    } catch (error) {
      if (!isTopicMissing(error)) throw error;
      problems.push(`SNS topic ${topicArn} does not exist`);
      return;
    }
    let next: string | undefined;
    do {
      const page = await sns.send(
        new ListSubscriptionsByTopicCommand({
          TopicArn: topicArn,
          ...(next === undefined ? {} : { NextToken: next }),
        }),
      );
      const found = page.Subscriptions?.find((s) => s.Endpoint === queueArn && s.Protocol === 'sqs');
      if (found?.SubscriptionArn !== undefined) {
        const attrs = await sns.send(
          new GetSubscriptionAttributesCommand({ SubscriptionArn: found.SubscriptionArn }),
        );
        if (attrs.Attributes?.RawMessageDelivery !== 'true')
          problems.push(`SNS subscription of "${queueName}" lacks RawMessageDelivery=true`);
        return;
      }
      next = page.NextToken;
    } while (next !== undefined && next !== '');
    problems.push(`SQS queue "${queueName}" is not subscribed to ${topicArn}`);
  }

  #requireSns(): SNSClient {
    if (this.#sns === undefined) throw new Error('SNS client not configured');
    return this.#sns;
  }
}

/** Queue policy letting the destination's topic (and only it) send to the group queue. */
function snsDeliveryPolicy(queueArn: string, topicArn: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Sid: 'omnibus-sns-delivery',
        Effect: 'Allow',
        Principal: { Service: 'sns.amazonaws.com' },
        Action: 'sqs:SendMessage',
        Resource: queueArn,
        Condition: { ArnEquals: { 'aws:SourceArn': topicArn } },
      },
    ],
  });
}
