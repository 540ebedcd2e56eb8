import type { JetStreamManager } from '@nats-io/jetstream';
import { ErrorCodes, OmnibusError } from '@omnibus/core';
import type { BacklogReading } from '@omnibus/core';
import { describeError } from '@omnibus/core/adapter-kit';
import { JetStreamErrorCodes, jetStreamErrorCode, isTransient } from './nats-error-mapper.js';
import type { NatsNames } from './nats-names.js';

/**
 * The unsettled messages of a group: for each of its durable consumers (one, or one per partition
 * for an ordered group), the messages not yet delivered (`num_pending`) plus those delivered and
 * waiting for their ack (`num_ack_pending`, which includes messages in a handler and retries
 * waiting out their `nak` delay). Exact: the server computes both from the stream when asked.
 * Rejects with `BACKLOG_UNAVAILABLE` when the destination or the group does not exist or the
 * server does not answer.
 */
export async function readNatsBacklog(
  jsm: JetStreamManager,
  names: NatsNames,
  destination: string,
  group: string,
): Promise<BacklogReading> {
  const stream = names.stream(destination);
  try {
    let consumers = [names.groupConsumer(group)];
    let infos;
    try {
      infos = [await jsm.consumers.info(stream, consumers[0] as string)];
    } catch (error) {
      if (jetStreamErrorCode(error) !== JetStreamErrorCodes.CONSUMER_NOT_FOUND) throw error;
      // Not an unordered group: an ordered one has a consumer per partition.
      consumers = names.consumers(group, true);
      infos = await Promise.all(consumers.map((consumer) => jsm.consumers.info(stream, consumer)));
    }
    const messages = infos.reduce((sum, info) => sum + info.num_pending + info.num_ack_pending, 0);
    return { destination, group, messages, kind: 'unsettled', approximate: false };
  } catch (error) {
    throw new OmnibusError(
      ErrorCodes.BACKLOG_UNAVAILABLE,
      `NATS could not report the backlog of group "${group}" of "${destination}" (stream "${stream}"): ${describeError(error)}`,
      { cause: error, retriable: isTransient(error) },
    );
  }
}
