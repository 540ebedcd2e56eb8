import { ListTopicsCommand, DeleteTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import {
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  GetQueueUrlCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { envelopeFromWire, readDeadLetterInfo } from '@omnibus/core';
import { randomUUID } from 'node:crypto';
import { SqsNaming } from '../../src/sqs-naming.js';

/** Test configurations: which server and which adapter options. */
export type SqsTestConfig = 'standard' | 'fifo' | 'sns' | 'sns-fifo';

const usesSns = (config: SqsTestConfig): boolean => config === 'sns' || config === 'sns-fifo';
const usesFifo = (config: SqsTestConfig): boolean => config === 'fifo' || config === 'sns-fifo';

const ELASTICMQ = 'http://127.0.0.1:9324';
const FAUXQS = process.env.OMNIBUS_TEST_FAUXQS_ENDPOINT ?? 'http://127.0.0.1:4566';
const CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

/**
 * Prefix shared by this test process and its children (the SIGKILL case loads the transport in
 * a child process, which inherits the environment), so both use the same queues.
 */
export function testPrefix(): string {
  process.env.OMNIBUS_SQS_TEST_PREFIX ??= `t${Date.now().toString(36)}-`;
  return process.env.OMNIBUS_SQS_TEST_PREFIX;
}

/** Adapter options for a configuration; short visibility and long-poll waits keep tests fast. */
export function testOptions(
  config: SqsTestConfig,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    endpoint: usesSns(config) ? FAUXQS : ELASTICMQ,
    region: 'us-east-1',
    accessKeyId: CREDENTIALS.accessKeyId,
    secretAccessKey: CREDENTIALS.secretAccessKey,
    fanOut: usesSns(config) ? 'sns' : 'none',
    fifo: usesFifo(config),
    queuePrefix: `${testPrefix()}${{ standard: 'st', fifo: 'fi', sns: 'sn', 'sns-fifo': 'sf' }[config]}-`,
    waitTimeSeconds: 1,
    visibilityTimeoutSeconds: 5,
    requestTimeoutMs: 5000,
    // ElasticMQ 1.7.1 writes its H2 message store asynchronously: in a CI rehearsal one of ten
    // messages accepted ~1 s before a restart was gone afterwards. Declare it (the restart case
    // then still proves publishing and consuming resume, without claiming durability).
    ...(usesSns(config) ? {} : { durableBroker: false }),
    ...overrides,
  };
}

/** Native clients for out-of-band reads and writes (never the adapter under test). */
export function nativeClients(config: SqsTestConfig): { sqs: SQSClient; sns: SNSClient } {
  const endpoint = usesSns(config) ? FAUXQS : ELASTICMQ;
  // A fresh credentials object per client: the SDK tags the object it is given (`$source`).
  const common = { endpoint, region: 'us-east-1', credentials: { ...CREDENTIALS } };
  return { sqs: new SQSClient({ ...common, useQueueUrlAsEndpoint: false }), sns: new SNSClient(common) };
}

function naming(config: SqsTestConfig, options: Record<string, unknown>): SqsNaming {
  return new SqsNaming({ queuePrefix: String(options.queuePrefix), fifo: usesFifo(config) });
}

/** Queue URL by name through the native client. */
export async function queueUrl(sqs: SQSClient, name: string): Promise<string> {
  const out = await sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (out.QueueUrl === undefined) throw new Error(`no url for ${name}`);
  return out.QueueUrl;
}

/** Names the adapter uses for a (destination, group) in a configuration. */
export function queueNames(
  config: SqsTestConfig,
  options: Record<string, unknown>,
  destination: string,
  group: string,
) {
  return naming(config, options).queues(destination, group, usesSns(config));
}

/** Receive (and delete) up to `count` messages from a queue, waiting up to `timeoutMs`. */
export async function drainQueue(
  sqs: SQSClient,
  url: string,
  count: number,
  timeoutMs: number,
): Promise<Message[]> {
  const out: Message[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < count && Date.now() < deadline) {
    const wait = Math.max(0, Math.min(1, Math.floor((deadline - Date.now()) / 1000)));
    const page = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: Math.min(10, count - out.length),
        WaitTimeSeconds: wait,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    const messages = page.Messages ?? [];
    if (messages.length > 0) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: url,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
      out.push(...messages);
    }
  }
  return out;
}

/**
 * Decode an Omnibus message independently of the adapter's codec (the wire format is: body =
 * UTF-8 text, or base64 when the packed headers say so; headers = the JSON in `omnibus-headers`
 * on top of plain String attributes).
 */
export function decodeIndependently(message: Message): {
  headers: Record<string, string>;
  payload: Uint8Array;
} {
  const headers: Record<string, string> = {};
  for (const [name, a] of Object.entries(message.MessageAttributes ?? {})) {
    if (name !== 'omnibus-headers' && a.StringValue !== undefined) headers[name] = a.StringValue;
  }
  const packed = message.MessageAttributes?.['omnibus-headers']?.StringValue;
  if (packed !== undefined) Object.assign(headers, JSON.parse(packed) as Record<string, string>);
  const body = message.Body ?? '';
  const encoding = headers['omnibus-body-encoding'];
  const payload =
    encoding === 'empty'
      ? new Uint8Array(0)
      : encoding === 'base64'
        ? new Uint8Array(Buffer.from(body, 'base64'))
        : new TextEncoder().encode(body);
  return { headers, payload };
}

/** `readDeadLetters` of the contract options, reading the group's dead-letter queue natively. */
export function deadLetterReader(config: SqsTestConfig, options: Record<string, unknown>) {
  const { sqs } = nativeClients(config);
  return async (destination: string, group: string, count: number, timeoutMs: number) => {
    const url = await queueUrl(sqs, queueNames(config, options, destination, group).deadLetterQueue);
    const messages = await drainQueue(sqs, url, count, timeoutMs);
    return messages.map((m) => {
      const { headers, payload } = decodeIndependently(m);
      const info = readDeadLetterInfo(headers);
      if (info === undefined)
        throw new Error(`dead-lettered message ${m.MessageId ?? '?'} carries no reason headers`);
      return {
        envelope: envelopeFromWire({
          headers,
          payload,
          ...(m.MessageId === undefined ? {} : { fallbackId: m.MessageId }),
        }),
        info,
      };
    });
  };
}

/** `publishForeign` of the contract options: raw bytes as the body, headers as String/Number attributes. */
export function foreignPublisher(config: SqsTestConfig, options: Record<string, unknown>) {
  const { sqs, sns } = nativeClients(config);
  return async (
    destination: string,
    body: Uint8Array,
    headers: Readonly<Record<string, string | number | boolean>> = {},
  ) => {
    // SQS/SNS bodies are text: bytes that are not valid UTF-8 text cannot be sent by any client.
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      throw new Error(
        'SQS message bodies are text; a foreign message body must be valid UTF-8 (run the suite with foreignBodies: "text")',
      );
    }
    // Numbers go as SQS's Number type; SQS has no boolean type, so booleans go as String.
    const attributes = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [
        k,
        { DataType: typeof v === 'number' ? 'Number' : 'String', StringValue: String(v) },
      ]),
    );
    const fifo = usesFifo(config)
      ? { MessageGroupId: randomUUID(), MessageDeduplicationId: randomUUID() }
      : {};
    if (usesSns(config)) {
      const name = naming(config, options).topic(destination);
      const arn = await findTopic(sns, name);
      await sns.send(
        new PublishCommand({ TopicArn: arn, Message: text, MessageAttributes: attributes, ...fifo }),
      );
      return;
    }
    const url = await queueUrl(sqs, queueNames(config, options, destination, '').queue);
    await sqs.send(
      new SendMessageCommand({ QueueUrl: url, MessageBody: text, MessageAttributes: attributes, ...fifo }),
    );
  };
}

/** Delete every queue and topic this test process created (best effort). */
export async function cleanUp(config: SqsTestConfig): Promise<void> {
  const { sqs, sns } = nativeClients(config);
  const prefix = testPrefix();
  try {
    const queues = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: prefix, MaxResults: 1000 }));
    await Promise.all(
      (queues.QueueUrls ?? []).map((url) =>
        sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined),
      ),
    );
    if (usesSns(config)) {
      const mine = (await listTopics(sns)).filter((arn) => arn.split(':').pop()?.startsWith(prefix) === true);
      await Promise.all(
        mine.map((arn) => sns.send(new DeleteTopicCommand({ TopicArn: arn })).catch(() => undefined)),
      );
    }
  } catch (error) {
    console.warn(`cleaning up ${config} test queues failed (left in place): ${String(error)}`);
  } finally {
    sqs.destroy();
    sns.destroy();
  }
}

async function listTopics(sns: SNSClient): Promise<string[]> {
  const arns: string[] = [];
  let next: string | undefined;
  do {
    const page = await sns.send(new ListTopicsCommand(next === undefined ? {} : { NextToken: next }));
    for (const t of page.Topics ?? []) if (t.TopicArn !== undefined) arns.push(t.TopicArn);
    next = page.NextToken;
  } while (next !== undefined && next !== '');
  return arns;
}

async function findTopic(sns: SNSClient, name: string): Promise<string> {
  const arn = (await listTopics(sns)).find((a) => a.endsWith(`:${name}`));
  if (arn === undefined) throw new Error(`topic ${name} not found`);
  return arn;
}
