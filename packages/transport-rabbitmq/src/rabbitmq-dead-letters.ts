import type { Channel, GetMessage, Options } from 'amqplib';
import { WireHeaders, cursorDeadLetterStore } from '@omnibus/core';
import type { DeadLetterCursor, DeadLetterStore } from '@omnibus/core';
import { amqpHeadersToWire } from './rabbitmq-message-mapper.js';
import type { PublishRequest } from './rabbitmq-publisher.js';
import type { RabbitMqNames } from './rabbitmq-topology.js';

/** What {@link rabbitMqDeadLetterStore} needs from the transport. */
export interface RabbitMqDeadLetterDeps {
  readonly names: RabbitMqNames;
  /** A plain channel on the current connection (connects first). */
  openChannel(): Promise<Channel>;
  /** Confirmed publish through the transport's publisher. */
  publish(request: PublishRequest): Promise<void>;
}

function shortString(value: string | undefined): string | undefined {
  return value !== undefined && value !== '' && Buffer.byteLength(value, 'utf8') <= 255 ? value : undefined;
}

/** Persistent, mandatory AMQP properties for a replayed copy with exactly these wire headers. */
function replayProperties(headers: Record<string, string>): Options.Publish {
  const options: Options.Publish = { persistent: true, mandatory: true, headers };
  const id = shortString(headers[WireHeaders.id]);
  const contentType = shortString(headers[WireHeaders.contentType]);
  const type = shortString(headers[WireHeaders.type]);
  const correlationId = shortString(headers[WireHeaders.correlationId]);
  if (id !== undefined) options.messageId = id;
  if (contentType !== undefined) options.contentType = contentType;
  if (type !== undefined) options.type = type;
  if (correlationId !== undefined) options.correlationId = correlationId;
  return options;
}

/**
 * Dead letters of a RabbitMQ group live in its queue `<prefix>/<destination>/<group>/~dead-letter`.
 * A pass takes the messages present when it starts with `basic.get` (unacked, so nobody else sees it), acks the ones
 * removed, and closes its channel, which returns the rest to the queue. A replay publishes the
 * copy with confirms through the default exchange straight to the group's queue (no other
 * group receives it), then acks the dead letter.
 */
export function rabbitMqDeadLetterStore(deps: RabbitMqDeadLetterDeps): DeadLetterStore {
  return cursorDeadLetterStore({
    async open(destination, group): Promise<DeadLetterCursor> {
      const queue = deps.names.deadLetterQueue(destination, group);
      const channel = await deps.openChannel();
      let closed = false;
      // Only what is in the queue now: copies dead-lettered during the pass wait for the next one.
      const initial = (await channel.checkQueue(queue)).messageCount;
      let left = initial;
      let removed = 0;
      return {
        async next() {
          if (left <= 0) return undefined;
          left -= 1;
          const message: GetMessage | false = await channel.get(queue, { noAck: false });
          if (message === false) return undefined;
          const messageId: unknown = message.properties.messageId;
          const timestamp: unknown = message.properties.timestamp;
          return {
            headers: amqpHeadersToWire(message.properties.headers),
            payload: new Uint8Array(message.content),
            ...(typeof messageId === 'string' && messageId !== '' ? { brokerMessageId: messageId } : {}),
            ...(typeof timestamp === 'number' ? { enqueuedAt: new Date(timestamp * 1000) } : {}),
            remove: () => {
              channel.ack(message);
              removed += 1;
              return Promise.resolve();
            },
          };
        },
        async close() {
          if (closed) return;
          closed = true;
          try {
            channel.nackAll(true);
          } catch {
            // channel already gone: the broker returns the messages anyway
          }
          await channel.close().catch(() => undefined);
          // Returns are applied asynchronously (quorum queues): finish once they are visible, so
          // the next operation sees every message this pass left (bounded: others may consume).
          await waitForCount(deps, queue, initial - removed);
        },
      };
    },
    republish(destination, group, headers, payload) {
      return deps.publish({
        content: Buffer.from(payload),
        options: replayProperties(headers),
        exchange: '',
        routingKey: deps.names.groupQueue(destination, group),
        destination,
      });
    },
  });
}

const RETURN_WAIT_MS = 5_000;

async function waitForCount(deps: RabbitMqDeadLetterDeps, queue: string, expected: number): Promise<void> {
  if (expected <= 0) return;
  const deadline = Date.now() + RETURN_WAIT_MS;
  const channel = await deps.openChannel();
  try {
    while ((await channel.checkQueue(queue)).messageCount < expected && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 20));
  } finally {
    await channel.close().catch(() => undefined);
  }
}
