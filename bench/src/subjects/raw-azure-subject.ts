import { randomUUID } from 'node:crypto';
import {
  ServiceBusClient,
  type ServiceBusMessage,
  type ServiceBusReceiver,
  type ServiceBusSender,
} from '@azure/service-bus';
import { decodePayload, encodePayload, type BenchPayload } from '../payload.js';
import type { Subject, SubjectFactory, SubjectSpec } from './subject.js';

/** Where the Service Bus emulator (tools/servicebus-emulator) listens. */
export interface AzureSettings {
  readonly connectionString: string;
  /** The emulator's admin HTTP API (creates and deletes topics and subscriptions). */
  readonly adminUrl: string;
}

/** One request to the emulator's admin API; resolves with the HTTP status. */
export async function emulatorAdmin(
  adminUrl: string,
  method: 'PUT' | 'DELETE',
  path: string,
  body?: object,
): Promise<number> {
  const response = await fetch(`${adminUrl.replace(/\/+$/, '')}${path}`, {
    method,
    headers: { 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await response.arrayBuffer();
  return response.status;
}

/**
 * @azure/service-bus by hand with the framework's semantics: one topic and one subscription
 * (peek-lock), `sendMessages` with the whole batch per publish call, and a receiver with
 * `subscribe({ maxConcurrentCalls: concurrency, autoCompleteMessages: true })`, which completes
 * each message after its handler resolved (and abandons it when the handler throws).
 */
class RawAzureSubject implements Subject {
  readonly #spec: SubjectSpec;
  readonly #settings: AzureSettings;
  readonly #topic: string;
  readonly #subscription = 'bench';
  #client: ServiceBusClient | undefined;
  #sender: ServiceBusSender | undefined;
  #receiver: ServiceBusReceiver | undefined;

  constructor(spec: SubjectSpec, settings: AzureSettings) {
    this.#spec = spec;
    this.#settings = settings;
    this.#topic = `raw-bench.${spec.runId}`;
  }

  async open(): Promise<void> {
    const topicPath = `/topics/${encodeURIComponent(this.#topic)}`;
    const created = [
      await emulatorAdmin(this.#settings.adminUrl, 'PUT', topicPath, {}),
      await emulatorAdmin(
        this.#settings.adminUrl,
        'PUT',
        `${topicPath}/subscriptions/${this.#subscription}`,
        {
          requiresSession: false,
        },
      ),
    ];
    if (created.some((status) => status >= 300 && status !== 409))
      throw new Error(`emulator admin: HTTP ${created.join(', ')}`);
    this.#client = new ServiceBusClient(this.#settings.connectionString);
    this.#sender = this.#client.createSender(this.#topic);
  }

  async publish(payload: BenchPayload): Promise<void> {
    await this.publishBatch([payload]);
  }

  async publishBatch(payloads: readonly BenchPayload[]): Promise<void> {
    const messages: ServiceBusMessage[] = payloads.map((p) => ({
      body: encodePayload(p),
      messageId: randomUUID(),
      contentType: 'application/json',
    }));
    await (this.#sender as ServiceBusSender).sendMessages(messages);
  }

  startConsumer(): Promise<void> {
    const receiver = (this.#client as ServiceBusClient).createReceiver(this.#topic, this.#subscription, {
      receiveMode: 'peekLock',
    });
    this.#receiver = receiver;
    const handle = this.#spec.onMessage;
    receiver.subscribe(
      {
        processMessage: async (message) => {
          // The SDK hands a JSON data section over already parsed; raw bytes are decoded here.
          const body: unknown = message.body;
          await handle(Buffer.isBuffer(body) ? decodePayload(body) : (body as BenchPayload));
        },
        processError: () => Promise.resolve(),
      },
      { maxConcurrentCalls: this.#spec.concurrency, autoCompleteMessages: true },
    );
    return Promise.resolve();
  }

  async close(): Promise<void> {
    await this.#receiver?.close().catch(() => undefined);
    await this.#sender?.close().catch(() => undefined);
    await this.#client?.close().catch(() => undefined);
    await emulatorAdmin(
      this.#settings.adminUrl,
      'DELETE',
      `/topics/${encodeURIComponent(this.#topic)}`,
    ).catch(() => undefined);
  }
}

/** The raw @azure/service-bus baseline (see {@link RawAzureSubject}). */
export function rawAzureFactory(settings: AzureSettings, sdkVersion: string): SubjectFactory {
  return {
    kind: 'raw',
    label: `@azure/service-bus ${sdkVersion}`,
    settings: {
      publish: 'sendMessages(batch) per publish call',
      consume: 'peekLock, subscribe({ maxConcurrentCalls: concurrency, autoCompleteMessages: true })',
      codec: 'JSON (the SDK parses the JSON body on receipt)',
    },
    create: (spec) => new RawAzureSubject(spec, settings),
  };
}
