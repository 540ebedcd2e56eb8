import type { TopologySpec } from '@omnibus/core';
import type { Channel } from 'amqplib';
import { subscriberMarkerArguments } from './rabbitmq-topology.js';
import type { RabbitMqNames } from './rabbitmq-topology.js';

/**
 * Delete the objects of `topology`: each group's subscriber marker, queue, dead-letter
 * queue and filter exchange, then the destination's exchange, on one channel from `openChannel` (closed afterwards). Deleting what
 * does not exist succeeds on RabbitMQ, so this is idempotent. Used for a bus's per-instance
 * reply destination at stop. Rejects with the client's error when the broker refuses.
 */
export async function deleteRabbitMqTopology(
  openChannel: () => Promise<Channel>,
  names: RabbitMqNames,
  topology: TopologySpec,
): Promise<void> {
  const channel = await openChannel();
  try {
    for (const destination of topology.destinations) {
      const exchange = names.destinationExchange(destination.name);
      for (const group of destination.groups) {
        await channel.unbindQueue(
          names.subscribersQueue(),
          names.subscribersExchange(),
          exchange,
          subscriberMarkerArguments(group.name),
        );
        await channel.deleteQueue(names.groupQueue(destination.name, group.name));
        await channel.deleteQueue(names.deadLetterQueue(destination.name, group.name));
        await channel.deleteExchange(names.filterExchange(destination.name, group.name));
      }
      await channel.deleteExchange(exchange);
    }
  } finally {
    await channel.close().catch(() => undefined);
  }
}
