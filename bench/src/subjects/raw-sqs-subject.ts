import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  DeleteQueueCommand,
  ListQueuesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
  type Message,
} from '@aws-sdk/client-sqs';
import { randomUUID } from 'node:crypto';
import { sleep } from '../async-utils.js';
import { decodePayload, type BenchPayload } from '../payload.js';
import type { Subject, SubjectFactory, SubjectSpec } from './subject.js';

/** Endpoint and polling settings of the raw SQS subject (mirroring the framework's defaults). */
export interface SqsSettings {
  readonly endpoint: string;
  readonly maxPollers: number;
  readonly waitTimeSeconds: number;
  readonly visibilityTimeoutSeconds: number;
}

/** An SQS client for a local endpoint with fixed credentials. */
export function benchSqsClient(endpoint: string): SQSClient {
  return new SQSClient({
    endpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    useQueueUrlAsEndpoint: false,
  });
}

/**
 * @aws-sdk/client-sqs by hand with the framework's semantics: SendMessageBatch (≤ 10) per batch
 * call, min(maxPollers, concurrency) long-poll loops that ask for up to 10 messages while handler
 * slots are free (at most `concurrency` handlers), and each received batch deleted with one
 * DeleteMessageBatch after its handlers resolved.
 */
class RawSqsSubject implements Subject {
  readonly #spec: SubjectSpec;
  readonly #settings: SqsSettings;
  readonly #sqs: SQSClient;
  readonly #name: string;
  #url = '';
  #running = false;
  #pollers: Promise<void>[] = [];
  readonly #abort = new AbortController();

  constructor(spec: SubjectSpec, settings: SqsSettings) {
    this.#spec = spec;
    this.#settings = settings;
    this.#sqs = benchSqsClient(settings.endpoint);
    this.#name = `raw-${spec.runId}`;
  }

  async open(): Promise<void> {
    const out = await this.#sqs.send(
      new CreateQueueCommand({
        QueueName: this.#name,
        Attributes: { VisibilityTimeout: String(this.#settings.visibilityTimeoutSeconds) },
      }),
    );
    this.#url = out.QueueUrl ?? '';
  }

  async publish(payload: BenchPayload): Promise<void> {
    await this.#sqs.send(new SendMessageCommand({ QueueUrl: this.#url, MessageBody: JSON.stringify(payload) }));
  }

  async publishBatch(payloads: readonly BenchPayload[]): Promise<void> {
    for (let i = 0; i < payloads.length; i += 10) {
      const chunk = payloads.slice(i, i + 10);
      const out = await this.#sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.#url,
          Entries: chunk.map((p, j) => ({ Id: `m${String(j)}`, MessageBody: JSON.stringify(p), MessageAttributes: { id: { DataType: 'String', StringValue: randomUUID() } } })),
        }),
      );
      if ((out.Failed ?? []).length > 0) throw new Error(`SendMessageBatch failed for ${String(out.Failed?.length)} entries`);
    }
  }

  startConsumer(): Promise<void> {
    this.#running = true;
    const pollers = Math.max(1, Math.min(this.#settings.maxPollers, this.#spec.concurrency));
    for (let i = 0; i < pollers; i++) this.#pollers.push(this.#poll());
    return Promise.resolve();
  }

  #inFlight = 0;
  #reserved = 0;
  #wake: (() => void)[] = [];

  /** Receive only while handler slots are free (in flight + asked for ≤ concurrency), like the framework. */
  async #poll(): Promise<void> {
    while (this.#running) {
      const free = this.#spec.concurrency - this.#inFlight - this.#reserved;
      if (free <= 0) {
        await new Promise<void>((resolve) => this.#wake.push(resolve));
        continue;
      }
      const want = Math.min(10, free);
      this.#reserved += want;
      let messages: Message[];
      try {
        const out = await this.#sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: this.#url,
            MaxNumberOfMessages: want,
            WaitTimeSeconds: this.#settings.waitTimeSeconds,
            MessageAttributeNames: ['All'],
          }),
          { abortSignal: this.#abort.signal },
        );
        messages = out.Messages ?? [];
      } catch {
        if (!this.#running) return;
        await sleep(100);
        continue;
      } finally {
        this.#reserved -= want;
      }
      if (messages.length > 0) {
        this.#inFlight += messages.length;
        void this.#handleBatch(messages);
      }
    }
  }

  /** Run the batch's handlers, then delete the handled ones with one DeleteMessageBatch. */
  async #handleBatch(messages: readonly Message[]): Promise<void> {
    const handle = this.#spec.onMessage;
    const done = await Promise.all(
      messages.map(async (m) => {
        try {
          await handle(decodePayload(m.Body ?? ''));
          return m;
        } catch {
          return undefined;
        } finally {
          this.#inFlight -= 1;
          this.#wake.shift()?.();
        }
      }),
    );
    const entries = done.flatMap((m, i) => (m?.ReceiptHandle === undefined ? [] : [{ Id: `d${String(i)}`, ReceiptHandle: m.ReceiptHandle }]));
    if (entries.length > 0) {
      await this.#sqs.send(new DeleteMessageBatchCommand({ QueueUrl: this.#url, Entries: entries })).catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    this.#running = false;
    for (const wake of this.#wake.splice(0)) wake();
    this.#abort.abort();
    await Promise.all(this.#pollers);
    await this.#sqs.send(new DeleteQueueCommand({ QueueUrl: this.#url })).catch(() => undefined);
    this.#sqs.destroy();
  }
}

/** Delete every queue whose name contains `runId` (best effort). */
export async function deleteSqsQueues(endpoint: string, runId: string): Promise<void> {
  const sqs = benchSqsClient(endpoint);
  try {
    const out = await sqs.send(new ListQueuesCommand({}));
    for (const url of out.QueueUrls ?? []) {
      if (url.includes(runId)) await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
    }
  } catch {
    // best effort
  } finally {
    sqs.destroy();
  }
}

/** The raw @aws-sdk/client-sqs baseline (see {@link RawSqsSubject}). */
export function rawSqsFactory(settings: SqsSettings, sdkVersion: string): SubjectFactory {
  return {
    kind: 'raw',
    label: `@aws-sdk/client-sqs ${sdkVersion}`,
    maxBatch: 10,
    settings: {
      publish: 'SendMessageBatch (≤ 10 per call), one message attribute (id)',
      consume: `min(${String(settings.maxPollers)}, concurrency) long-poll loops receiving while handler slots are free, MaxNumberOfMessages ≤ 10, WaitTimeSeconds ${String(settings.waitTimeSeconds)}`,
      settle: 'DeleteMessageBatch per received batch after its handlers resolved',
      codec: 'JSON',
    },
    create: (spec) => new RawSqsSubject(spec, settings),
  };
}
