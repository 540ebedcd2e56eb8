import { WireHeaders, readDeadLetterInfo } from '@omnibus/core';
import { expect } from 'chai';
import type { ReceivedRecord } from '../src/kafka-client-port.js';
import {
  KafkaHeaders,
  deadLetterHeaders,
  readAttempt,
  readDueAt,
  retryHeaders,
} from '../src/kafka-headers.js';

const record = (headers: Record<string, string>, offset = '42'): ReceivedRecord => ({
  topic: 'p.orders',
  partition: 2,
  offset,
  value: new Uint8Array([1]),
  headers,
  timestamp: new Date(0),
});

describe('Kafka headers', () => {
  it('reads the attempt and due time leniently', () => {
    expect(readAttempt({})).to.equal(1);
    expect(readAttempt({ [WireHeaders.deliveryAttempt]: '3' })).to.equal(3);
    expect(readAttempt({ [WireHeaders.deliveryAttempt]: 'x' })).to.equal(1);
    expect(readDueAt({})).to.equal(0);
    expect(readDueAt({ [KafkaHeaders.dueAt]: '1234' })).to.equal(1234);
  });

  it('a retry copy carries attempt + 1, due time and the first coordinates', () => {
    const first = retryHeaders(record({ custom: 'v' }), 2, 999);
    expect(first[WireHeaders.deliveryAttempt]).to.equal('2');
    expect(first[KafkaHeaders.dueAt]).to.equal('999');
    expect(first['custom']).to.equal('v');
    expect([
      first[KafkaHeaders.originTopic],
      first[KafkaHeaders.originPartition],
      first[KafkaHeaders.originOffset],
    ]).to.deep.equal(['p.orders', '2', '42']);
    const second = retryHeaders(
      { ...record(first, '7'), topic: 'p.orders.g.retry-1000', partition: 0 },
      3,
      1999,
    );
    expect(second[KafkaHeaders.originOffset]).to.equal('42');
  });

  it('a dead-letter copy keeps original headers and adds reason and coordinates', () => {
    const retried = retryHeaders(record({ custom: 'v', [WireHeaders.id]: 'm1' }), 2, 5);
    const dl = deadLetterHeaders(
      { ...record(retried, '3'), topic: 'p.orders.g.retry-1000' },
      { code: 'HANDLER_FAILED', message: 'boom', attempts: 2 },
      { destination: 'orders', group: 'g' },
    );
    expect(dl['custom']).to.equal('v');
    expect(dl[WireHeaders.id]).to.equal('m1');
    expect(dl[WireHeaders.deliveryAttempt]).to.equal(undefined);
    expect(dl[KafkaHeaders.dueAt]).to.equal(undefined);
    expect([
      dl[KafkaHeaders.deadLetterTopic],
      dl[KafkaHeaders.deadLetterPartition],
      dl[KafkaHeaders.deadLetterOffset],
    ]).to.deep.equal(['p.orders', '2', '42']);
    const info = readDeadLetterInfo(dl);
    expect(info?.code).to.equal('HANDLER_FAILED');
    expect(info?.attempts).to.equal(2);
    expect(info?.destination).to.equal('orders');
    expect(info?.group).to.equal('g');
  });
});
