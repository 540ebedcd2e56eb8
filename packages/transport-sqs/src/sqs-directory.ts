import { CreateTopicCommand, ListTopicsCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetQueueAttributesCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { ErrorCodes, OmnibusError } from '@omnibus/core';
import { isQueueMissing, toOmnibusError } from './sqs-error-mapper.js';

/**
 * Cache of queue URLs, queue ARNs and topic ARNs by name, filled by provisioning and by
 * on-demand look-ups. Concurrent look-ups of one name share one request; failed look-ups are
 * not cached.
 */
export class SqsDirectory {
  readonly #sqs: SQSClient;
  readonly #sns: SNSClient | undefined;
  readonly #queueUrls = new Map<string, Promise<string>>();
  readonly #queueArns = new Map<string, Promise<string>>();
  readonly #topicArns = new Map<string, Promise<string>>();

  constructor(sqs: SQSClient, sns: SNSClient | undefined) {
    this.#sqs = sqs;
    this.#sns = sns;
  }

  /** Remember a queue URL learnt elsewhere (provisioning). */
  rememberQueue(name: string, url: string): void {
    this.#queueUrls.set(name, Promise.resolve(url));
  }

  /** Remember a topic ARN learnt elsewhere (provisioning). */
  rememberTopic(name: string, arn: string): void {
    this.#topicArns.set(name, Promise.resolve(arn));
  }

  /** Forget a deleted queue (its URL and ARN). */
  forgetQueue(name: string): void {
    const url = this.#queueUrls.get(name);
    this.#queueUrls.delete(name);
    void url?.then(
      (u) => this.#queueArns.delete(u),
      () => undefined,
    );
  }

  /** Forget a deleted topic. */
  forgetTopic(name: string): void {
    this.#topicArns.delete(name);
  }

  /** URL of a queue; rejects with `notFoundCode` when it does not exist. */
  queueUrl(name: string, notFoundCode: OmnibusError['code']): Promise<string> {
    return this.#cached(this.#queueUrls, name, async () => {
      try {
        const out = await this.#sqs.send(new GetQueueUrlCommand({ QueueName: name }));
        if (out.QueueUrl === undefined) throw new Error('GetQueueUrl returned no QueueUrl');
        return out.QueueUrl;
      } catch (error) {
        if (isQueueMissing(error)) {
          throw new OmnibusError(
            notFoundCode,
            `SQS queue "${name}" does not exist (provision the topology first)`,
            { cause: error },
          );
        }
        throw toOmnibusError(error, notFoundCode, `Looking up SQS queue "${name}"`);
      }
    });
  }

  /** ARN of a queue, by URL. */
  queueArn(url: string): Promise<string> {
    return this.#cached(this.#queueArns, url, async () => {
      const out = await this.#sqs.send(
        new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
      );
      const arn = out.Attributes?.QueueArn;
      if (arn === undefined)
        throw new OmnibusError(ErrorCodes.PROVISIONING_FAILED, `SQS returned no QueueArn for ${url}`);
      return arn;
    });
  }

  /**
   * ARN of a topic: CreateTopic (idempotent) when `create` gives its attributes, else a
   * ListTopics scan (publishing never creates a topic: a topic nobody subscribed to would drop
   * the message). Rejects with `notFoundCode` when it does not exist.
   */
  topicArn(
    name: string,
    notFoundCode: OmnibusError['code'],
    create?: Record<string, string>,
  ): Promise<string> {
    const sns = this.#sns;
    if (sns === undefined) return Promise.reject(new Error('SNS client not configured'));
    return this.#cached(this.#topicArns, name, async () => {
      try {
        if (create !== undefined) {
          const out = await sns.send(new CreateTopicCommand({ Name: name, Attributes: create }));
          if (out.TopicArn !== undefined) return out.TopicArn;
        }
        let next: string | undefined;
        do {
          const page = await sns.send(new ListTopicsCommand(next === undefined ? {} : { NextToken: next }));
          const found = page.Topics?.find((t) => t.TopicArn?.endsWith(`:${name}`) === true);
          if (found?.TopicArn !== undefined) return found.TopicArn;
          next = page.NextToken;
        } while (next !== undefined && next !== '');
      } catch (error) {
        throw toOmnibusError(error, notFoundCode, `Looking up SNS topic "${name}"`);
      }
      throw new OmnibusError(
        notFoundCode,
        `SNS topic "${name}" does not exist (provision the topology first)`,
      );
    });
  }

  #cached(map: Map<string, Promise<string>>, key: string, load: () => Promise<string>): Promise<string> {
    const hit = map.get(key);
    if (hit !== undefined) return hit;
    const promise = load();
    map.set(key, promise);
    promise.catch(() => {
      if (map.get(key) === promise) map.delete(key);
    });
    return promise;
  }
}
