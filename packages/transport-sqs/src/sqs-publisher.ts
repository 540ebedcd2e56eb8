import {
  ListSubscriptionsByTopicCommand,
  PublishBatchCommand,
  PublishCommand,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import {
  envelopeToWireHeaders,
  ErrorCodes,
  isOmnibusError,
  OmnibusError,
  SubscriberCheck,
  type OutgoingMessage,
  type TransportCapabilities,
} from '@omnibus/core';
import type { SqsDirectory } from './sqs-directory.js';
import { batchEntryError, isQueueMissing, isTransientSqsError, toOmnibusError } from './sqs-error-mapper.js';
import {
  assertWithinLimits,
  encodeWireMessage,
  wireMessageBytes,
  type SqsWireMessage,
} from './sqs-message-codec.js';
import { toFifoId, type SqsNaming } from './sqs-naming.js';
import type { SqsTransportOptions } from './sqs-options.js';
import {
  checkPublish,
  publishDeadline,
  resendUntil,
  type PublishDeadline,
  type PublishLimits,
} from '@omnibus/core/adapter-kit';

/** One message ready to send: wire form plus the SQS/SNS send parameters. */
interface PreparedMessage {
  readonly id: string;
  readonly wire: SqsWireMessage;
  readonly bytes: number;
  readonly delaySeconds: number;
  readonly groupId: string | undefined;
  readonly deduplicationId: string | undefined;
}

const MAX_BATCH_ENTRIES = 10;

/** Sends one chunk of prepared messages before the publish call's deadline. */
type Sender = (batch: readonly PreparedMessage[], deadline: PublishDeadline) => Promise<void>;

/**
 * Publishes envelopes to a destination: to its SNS topic (fanOut "sns") or straight to its
 * queue (fanOut "none"), in batches of ≤ 10 entries and ≤ maxMessageBytes. Every message is
 * validated (size, attribute count, delay) before anything is sent, so a bad message fails the
 * call without a partial send. Resolves only when SQS/SNS accepted every entry; otherwise
 * rejects with `PUBLISH_FAILED` (entries accepted before the failure stay published: batches
 * are not atomic). With SNS, a topic without a confirmed subscription rejects the whole call
 * with `NO_SUBSCRIBERS` before anything is sent (asked with ListSubscriptionsByTopic until a
 * subscription is seen, then remembered). Safe to call concurrently.
 */
export class SqsPublisher {
  readonly #sqs: SQSClient;
  readonly #sns: SNSClient | undefined;
  readonly #naming: SqsNaming;
  readonly #directory: SqsDirectory;
  readonly #options: Pick<SqsTransportOptions, 'fifo' | 'fanOut' | 'maxMessageBytes' | 'publishTimeoutMs'>;
  readonly #limits: PublishLimits;
  readonly #subscribers: SubscriberCheck;

  constructor(deps: {
    sqs: SQSClient;
    sns: SNSClient | undefined;
    naming: SqsNaming;
    directory: SqsDirectory;
    options: Pick<SqsTransportOptions, 'fifo' | 'fanOut' | 'maxMessageBytes' | 'publishTimeoutMs'>;
    capabilities: TransportCapabilities;
  }) {
    this.#sqs = deps.sqs;
    this.#sns = deps.sns;
    this.#naming = deps.naming;
    this.#directory = deps.directory;
    this.#options = deps.options;
    this.#limits = { name: 'sqs', capabilities: deps.capabilities };
    this.#subscribers = new SubscriberCheck('SNS', (destination) => this.#hasSubscription(destination));
  }

  /** Remember that `destination` has a group (this transport subscribed one to its topic). */
  markSubscribed(destination: string): void {
    this.#subscribers.markSubscribed(destination);
  }

  /**
   * See {@link SqsPublisher}. While SQS/SNS is unreachable (network error, 5xx, throttling) each
   * request is re-sent with backoff until `publishTimeoutMs` from the call has passed, then the call
   * rejects with a retriable `PUBLISH_FAILED` (core's `resendUntil`, the behaviour every transport shares).
   */
  async publish(destination: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return;
    const prepared = messages.map((m) => this.#prepare(destination, m));
    const deadline = publishDeadline(this.#options.publishTimeoutMs);
    const send = await resendUntil(deadline, resendOptions(destination), () =>
      this.#options.fanOut === 'sns' ? this.#snsSender(destination) : this.#sqsSender(destination),
    );
    for (const chunk of chunks(prepared, this.#options.maxMessageBytes)) {
      await send(chunk, deadline);
    }
  }

  #prepare(destination: string, message: OutgoingMessage): PreparedMessage {
    const { envelope } = message;
    // FIFO queues and SNS topics have no per-message delay: their capabilities say so.
    const delayMs = checkPublish(this.#limits, destination, message);
    const wire = encodeWireMessage(envelopeToWireHeaders(envelope), envelope.payload);
    assertWithinLimits(wire, this.#options.maxMessageBytes, envelope.id);
    return {
      id: envelope.id,
      wire,
      bytes: wireMessageBytes(wire),
      delaySeconds: Math.ceil(delayMs / 1000),
      groupId: this.#options.fifo ? toFifoId(envelope.partitionKey ?? envelope.id) : undefined,
      deduplicationId: this.#options.fifo ? toFifoId(envelope.id) : undefined,
    };
  }

  async #sqsSender(destination: string): Promise<Sender> {
    const name = this.#naming.queues(destination, '', false).queue;
    const url = await this.#directory.queueUrl(name, ErrorCodes.PUBLISH_FAILED);
    return async (batch, deadline) => {
      const context = `Publishing to SQS queue "${name}"`;
      if (batch.length === 1) {
        const m = batch[0] as PreparedMessage;
        await this.#call(context, deadline, destination, (abortSignal) =>
          this.#sqs.send(new SendMessageCommand({ QueueUrl: url, ...sqsEntry(m) }), { abortSignal }),
        );
        return;
      }
      const entries = batch.map((m, i) => ({ Id: `m${String(i)}`, ...sqsEntry(m) }));
      const out = await this.#call(context, deadline, destination, (abortSignal) =>
        this.#sqs.send(new SendMessageBatchCommand({ QueueUrl: url, Entries: entries }), { abortSignal }),
      );
      throwOnFailed(out.Failed, batch, context);
    };
  }

  async #snsSender(destination: string): Promise<Sender> {
    const sns = this.#sns;
    if (sns === undefined) throw new Error('SNS client not configured');
    const name = this.#naming.topic(destination);
    const arn = await this.#directory.topicArn(name, ErrorCodes.PUBLISH_FAILED);
    // SNS accepts and drops a message for a topic nobody subscribes to (ADR 0005).
    const subscribed = this.#subscribers.require(destination);
    if (subscribed !== undefined) await subscribed;
    return async (batch, deadline) => {
      const context = `Publishing to SNS topic "${name}"`;
      if (batch.length === 1) {
        const m = batch[0] as PreparedMessage;
        await this.#call(context, deadline, destination, (abortSignal) =>
          sns.send(new PublishCommand({ TopicArn: arn, ...snsEntry(m) }), { abortSignal }),
        );
        return;
      }
      const entries = batch.map((m, i) => ({ Id: `m${String(i)}`, ...snsEntry(m) }));
      const out = await this.#call(context, deadline, destination, (abortSignal) =>
        sns.send(new PublishBatchCommand({ TopicArn: arn, PublishBatchRequestEntries: entries }), {
          abortSignal,
        }),
      );
      throwOnFailed(out.Failed, batch, context);
    };
  }

  /** Whether the destination's topic has a confirmed subscription (ListSubscriptionsByTopic, first page that has one). */
  async #hasSubscription(destination: string): Promise<boolean> {
    const sns = this.#sns;
    if (sns === undefined) return true;
    const name = this.#naming.topic(destination);
    const arn = await this.#directory.topicArn(name, ErrorCodes.PUBLISH_FAILED);
    let next: string | undefined;
    do {
      const token = next;
      let page;
      try {
        page = await sns.send(
          new ListSubscriptionsByTopicCommand({
            TopicArn: arn,
            ...(token === undefined ? {} : { NextToken: token }),
          }),
        );
      } catch (error) {
        throw toOmnibusError(
          error,
          ErrorCodes.PUBLISH_FAILED,
          `Listing the subscriptions of SNS topic "${name}"`,
        );
      }
      const confirmed = page.Subscriptions?.some(
        (s) => s.SubscriptionArn !== undefined && s.SubscriptionArn !== 'PendingConfirmation',
      );
      if (confirmed === true) return true;
      next = page.NextToken;
    } while (next !== undefined && next !== '');
    return false;
  }

  /** One request, re-sent on transient failures until the publish deadline (a whole-request failure stored nothing). */
  #call<T>(
    context: string,
    deadline: PublishDeadline,
    destination: string,
    send: (abortSignal: AbortSignal) => Promise<T>,
  ): Promise<T> {
    return resendUntil(deadline, sendOptions(destination), async (signal) => {
      try {
        return await send(signal);
      } catch (error) {
        throw toOmnibusError(error, ErrorCodes.PUBLISH_FAILED, context);
      }
    });
  }
}

const resendOptions = (destination: string) => ({
  transport: 'SQS',
  destination,
  isTransient: isTransientSqsError,
});

/**
 * For sends to a queue whose URL was resolved (it existed): "queue does not exist" is transient
 * too, because ElasticMQ answers for a few seconds after a restart before it has restored its
 * queues. A queue deleted for good therefore rejects after publishTimeoutMs instead of at once.
 */
const sendOptions = (destination: string) => ({
  transport: 'SQS',
  destination,
  isTransient: (error: unknown) =>
    isTransientSqsError(error) || isQueueMissing(isOmnibusError(error) ? error.cause : error),
});

function sqsEntry(m: PreparedMessage) {
  return {
    MessageBody: m.wire.body,
    MessageAttributes: m.wire.attributes,
    ...(m.delaySeconds > 0 ? { DelaySeconds: m.delaySeconds } : {}),
    ...(m.groupId === undefined ? {} : { MessageGroupId: m.groupId }),
    ...(m.deduplicationId === undefined ? {} : { MessageDeduplicationId: m.deduplicationId }),
  };
}

function snsEntry(m: PreparedMessage) {
  return {
    Message: m.wire.body,
    MessageAttributes: m.wire.attributes,
    ...(m.groupId === undefined ? {} : { MessageGroupId: m.groupId }),
    ...(m.deduplicationId === undefined ? {} : { MessageDeduplicationId: m.deduplicationId }),
  };
}

type FailedEntry = {
  readonly Id?: string | undefined;
  readonly Code?: string | undefined;
  readonly Message?: string | undefined;
  readonly SenderFault?: boolean | undefined;
};

function throwOnFailed(
  failed: readonly FailedEntry[] | undefined,
  batch: readonly PreparedMessage[],
  context: string,
): void {
  if (failed === undefined || failed.length === 0) return;
  const errors = failed.map((f) => {
    const index = Number((f.Id ?? 'm-1').slice(1));
    return batchEntryError(f, ErrorCodes.PUBLISH_FAILED, `${context}: message ${batch[index]?.id ?? '?'}`);
  });
  throw new OmnibusError(
    ErrorCodes.PUBLISH_FAILED,
    `${String(failed.length)} of ${String(batch.length)} messages were not accepted:\n- ${errors.map((e) => e.message).join('\n- ')}`,
    {
      retriable: errors.every((e) => e.retriable),
      cause: errors[0],
    },
  );
}

/** Split into SQS/SNS batches: ≤ 10 entries and ≤ `maxBytes` in total, order kept. */
export function chunks<T extends { readonly bytes: number }>(items: readonly T[], maxBytes: number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    if (current.length > 0 && (current.length === MAX_BATCH_ENTRIES || size + item.bytes > maxBytes)) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += item.bytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}
