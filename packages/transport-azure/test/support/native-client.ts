import { ServiceBusClient } from '@azure/service-bus';
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import { envelopeFromWire, readDeadLetterInfo } from '@omnibus/core';
import type { DeadLetteredMessage } from '@omnibus/contract-tests';

/**
 * Out-of-band helpers on the native `@azure/service-bus` client, for tests. They decode with
 * core's `envelopeFromWire` only, never with the adapter's own mapper, so an adapter bug cannot
 * hide itself.
 */
export class NativeServiceBus {
  readonly client: ServiceBusClient;

  constructor(connectionString: string) {
    this.client = new ServiceBusClient(connectionString, {
      retryOptions: { maxRetries: 2, timeoutInMs: 20_000 },
    });
  }

  /**
   * Read and remove up to `count` messages from `<topic>/Subscriptions/<sub>/$DeadLetterQueue`,
   * waiting up to `timeoutMs` in total. Peek-lock and complete each one returned: in
   * receive-and-delete mode a message the broker sends after a batch's wait ended is deleted
   * but never returned (the volume case saw 2 of 49 dead letters vanish from this reader).
   */
  async readDeadLetters(
    topic: string,
    subscription: string,
    count: number,
    timeoutMs: number,
  ): Promise<DeadLetteredMessage[]> {
    const receiver = this.client.createReceiver(topic, subscription, {
      subQueueType: 'deadLetter',
      receiveMode: 'peekLock',
      skipParsingBodyAsJson: true,
    });
    const out: DeadLetteredMessage[] = [];
    const deadline = Date.now() + timeoutMs;
    try {
      while (out.length < count && Date.now() < deadline) {
        const batch = await receiver.receiveMessages(count - out.length, {
          maxWaitTimeInMs: Math.max(100, Math.min(1000, deadline - Date.now())),
        });
        for (const message of batch) {
          await receiver.completeMessage(message);
          out.push(toDeadLettered(message, topic, subscription));
        }
      }
    } finally {
      await receiver.close();
    }
    return out;
  }

  /** Receive-and-delete everything currently in a subscription (or its dead-letter queue), for assertions. */
  async drain(
    topic: string,
    subscription: string,
    deadLetter = false,
    waitMs = 500,
  ): Promise<ServiceBusReceivedMessage[]> {
    const receiver = this.client.createReceiver(topic, subscription, {
      receiveMode: 'receiveAndDelete',
      skipParsingBodyAsJson: true,
      ...(deadLetter ? { subQueueType: 'deadLetter' as const } : {}),
    });
    try {
      const out: ServiceBusReceivedMessage[] = [];
      for (;;) {
        const batch = await receiver.receiveMessages(50, { maxWaitTimeInMs: waitMs });
        if (batch.length === 0) return out;
        out.push(...batch);
      }
    } finally {
      await receiver.close();
    }
  }

  /** Send raw bytes (a data section) with raw application properties and no Omnibus envelope. */
  async publishForeign(
    topic: string,
    body: Uint8Array,
    headers: Readonly<Record<string, string | number | boolean>> = {},
    sessionId?: string,
  ): Promise<void> {
    const sender = this.client.createSender(topic);
    try {
      await sender.sendMessages({
        body: Buffer.from(body),
        applicationProperties: { ...headers },
        ...(sessionId === undefined ? {} : { sessionId }),
      });
    } finally {
      await sender.close();
    }
  }

  /** Close the client. */
  close(): Promise<void> {
    return this.client.close();
  }
}

function toDeadLettered(
  message: ServiceBusReceivedMessage,
  topic: string,
  subscription: string,
): DeadLetteredMessage {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(message.applicationProperties ?? {})) {
    // Service Bus stores the native reason fields as application properties: not user headers.
    if (
      value === null ||
      value === undefined ||
      name === 'DeadLetterReason' ||
      name === 'DeadLetterErrorDescription'
    )
      continue;
    headers[name] = value instanceof Date ? value.toISOString() : String(value);
  }
  const payload = message.body instanceof Uint8Array ? message.body : Buffer.from(String(message.body ?? ''));
  const envelope = envelopeFromWire({
    headers,
    payload,
    ...(message.messageId === undefined ? {} : { fallbackId: String(message.messageId) }),
    ...(message.enqueuedTimeUtc === undefined ? {} : { fallbackTime: message.enqueuedTimeUtc }),
  });
  const info = readDeadLetterInfo(headers) ?? {
    code: message.deadLetterReason ?? '',
    message: message.deadLetterErrorDescription ?? '',
    attempts: message.deliveryCount ?? 0,
    destination: topic,
    group: subscription,
    at: message.enqueuedTimeUtc ?? new Date(0),
  };
  return { envelope, info };
}
