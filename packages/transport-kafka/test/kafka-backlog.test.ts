import { expect } from 'chai';
import { ErrorCodes, OmnibusError } from '@omnibus/core';
import { offsetLag, readKafkaBacklog } from '../src/kafka-backlog.js';
import type { KafkaClientPort, PartitionOffsets } from '../src/kafka-client-port.js';
import { KafkaNaming } from '../src/kafka-naming.js';

/** A Kafka error as kafkajs raises it while a partition leader is being elected or has moved. */
function notLeader(): Error {
  return Object.assign(new Error('This server is not the leader for that topic-partition'), {
    type: 'NOT_LEADER_FOR_PARTITION',
    retriable: true,
  });
}

/** The two client calls the backlog reader makes; every other port method is absent on purpose. */
function fakeClient(answers: Array<PartitionOffsets[] | Error>): {
  client: KafkaClientPort;
  calls: string[];
} {
  const calls: string[] = [];
  const client = {
    describeTopics: async (names: readonly string[]) => {
      calls.push('describeTopics');
      return names.map((name) => ({ name, partitions: 1 }));
    },
    groupOffsets: async () => {
      calls.push('groupOffsets');
      const next = answers.shift();
      if (next === undefined) throw new Error('no answer left');
      if (next instanceof Error) throw next;
      return next;
    },
  } as unknown as KafkaClientPort;
  return { client, calls };
}

describe('Kafka backlog reader', () => {
  const naming = new KafkaNaming({ topicPrefix: 't.', groupIdPrefix: 'g-' });
  const twoBehind: PartitionOffsets[] = [{ partition: 0, committed: '3', low: '0', high: '5' }];

  it('sums high watermark minus committed offset; an uncommitted group starts at low or high', () => {
    const partitions: PartitionOffsets[] = [
      { partition: 0, committed: '3', low: '0', high: '5' },
      { partition: 1, committed: '-1', low: '2', high: '9' },
    ];
    expect(offsetLag(partitions, true)).to.equal(2 + 7);
    expect(offsetLag(partitions, false)).to.equal(2);
  });

  it('retries a partition leader in motion, refreshing metadata, and then reads the lag', async () => {
    const { client, calls } = fakeClient([notLeader(), notLeader(), twoBehind]);
    const reading = await readKafkaBacklog(client, naming, 'orders', 'billing', true);
    expect(reading).to.deep.equal({
      destination: 'orders',
      group: 'billing',
      messages: 2,
      kind: 'offset-lag',
      approximate: false,
    });
    expect(calls).to.deep.equal([
      'describeTopics',
      'groupOffsets',
      'describeTopics',
      'groupOffsets',
      'describeTopics',
      'groupOffsets',
    ]);
  });

  it('gives up after four reads with BACKLOG_UNAVAILABLE naming the broker error', async () => {
    const { client, calls } = fakeClient([notLeader(), notLeader(), notLeader(), notLeader(), twoBehind]);
    const error = await readKafkaBacklog(client, naming, 'orders', 'billing', true).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.be.instanceOf(OmnibusError);
    expect((error as OmnibusError).code).to.equal(ErrorCodes.BACKLOG_UNAVAILABLE);
    expect((error as OmnibusError).message).to.contain('not the leader');
    expect(calls.filter((c) => c === 'groupOffsets')).to.have.length(4);
  });

  it('does not retry an error the broker does not call retriable', async () => {
    const { client, calls } = fakeClient([new Error('authorization failed'), twoBehind]);
    const error = await readKafkaBacklog(client, naming, 'orders', 'billing', true).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as OmnibusError).code).to.equal(ErrorCodes.BACKLOG_UNAVAILABLE);
    expect(calls.filter((c) => c === 'groupOffsets')).to.have.length(1);
  });
});
