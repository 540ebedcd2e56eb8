import { ErrorCodes, OmnibusError, type BacklogReading } from '@omnibus/core';
import { sleep } from '@omnibus/core/adapter-kit';
import type { KafkaClientPort, PartitionOffsets } from './kafka-client-port.js';
import type { KafkaNaming } from './kafka-naming.js';

/**
 * Records of the partitions not yet committed by the group: high watermark minus the committed
 * offset, summed. A group that never committed starts at the low watermark (`fromBeginning`) or
 * at the end (only new records). Pure.
 */
export function offsetLag(partitions: readonly PartitionOffsets[], fromBeginning: boolean): number {
  let lag = 0n;
  for (const p of partitions) {
    const high = BigInt(p.high);
    const committed = BigInt(p.committed);
    const position = committed >= 0n ? committed : fromBeginning ? BigInt(p.low) : high;
    if (high > position) lag += high - position;
  }
  return Number(lag);
}

/** Pauses before the retries of an offsets read that met a partition leader in motion. */
const LEADER_RETRY_DELAYS_MS = [50, 150, 400] as const;

/**
 * Whether a Kafka error is one the broker expects a client to retry after refreshing metadata
 * (a partition whose leader is being elected or just moved, typical right after a topic was
 * created or a broker restarted). kafkajs marks these `retriable`.
 */
function isLeaderInMotion(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}

/**
 * The consumer lag of `group` on the destination's main topic, through the admin client (no
 * consumer is touched, so a failing read never disturbs consumption). Records waiting in the
 * delay and retry tier topics are not counted. A partition leader in motion is retried three
 * times within about 0.6 s, refreshing metadata each time. Rejects with `BACKLOG_UNAVAILABLE`.
 */
export async function readKafkaBacklog(
  client: KafkaClientPort,
  naming: KafkaNaming,
  destination: string,
  group: string,
  fromBeginning: boolean,
): Promise<BacklogReading> {
  const topic = naming.mainTopic(destination);
  try {
    // Asked first because kafkajs keeps a topic it was asked about in its metadata targets: a
    // missing one would fail every later metadata refresh of the shared admin client.
    if ((await client.describeTopics([topic])).length === 0)
      throw new Error('the topic does not exist (provision the topology first)');
    const partitions = await groupOffsetsRetryingLeaderMoves(
      client,
      naming.groupId(destination, group),
      topic,
    );
    return {
      destination,
      group,
      messages: offsetLag(partitions, fromBeginning),
      kind: 'offset-lag',
      approximate: false,
    };
  } catch (error) {
    throw new OmnibusError(
      ErrorCodes.BACKLOG_UNAVAILABLE,
      `Kafka could not report the lag of group "${group}" on topic "${topic}": ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, retriable: true },
    );
  }
}

async function groupOffsetsRetryingLeaderMoves(
  client: KafkaClientPort,
  groupId: string,
  topic: string,
): Promise<PartitionOffsets[]> {
  for (const delayMs of LEADER_RETRY_DELAYS_MS) {
    try {
      return await client.groupOffsets(groupId, topic);
    } catch (error) {
      if (!isLeaderInMotion(error)) throw error;
      await sleep(delayMs);
      await client.describeTopics([topic]); // refreshes the admin client's view of the leaders
    }
  }
  return client.groupOffsets(groupId, topic);
}
