import { ErrorCodes, OmnibusError, type BacklogReading } from '@omnibus/core';
import type { Channel } from 'amqplib';

/**
 * The ready messages of a group's queue, from a passive `checkQueue` (queue.declare passive) on a
 * channel of its own, closed afterwards: a missing queue closes only that channel, never a
 * consuming or publishing one. Messages delivered and waiting for their ack, and messages parked
 * in retry or delay tier queues, are not counted (AMQP reports ready messages only). Rejects with
 * `BACKLOG_UNAVAILABLE`.
 */
export async function readRabbitMqBacklog(
  openChannel: () => Promise<Channel>,
  queue: string,
  destination: string,
  group: string,
): Promise<BacklogReading> {
  let channel: Channel | undefined;
  try {
    channel = await openChannel();
    const { messageCount } = await channel.checkQueue(queue);
    return { destination, group, messages: messageCount, kind: 'ready', approximate: false };
  } catch (error) {
    throw new OmnibusError(
      ErrorCodes.BACKLOG_UNAVAILABLE,
      `RabbitMQ could not report the depth of queue "${queue}": ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, retriable: true },
    );
  } finally {
    await channel?.close().catch(() => undefined);
  }
}
