import { expect } from 'chai';
import type { TopicRecords } from '../src/kafka-client-port.js';
import { PublishBatcher } from '../src/publish-batcher.js';

const bytes = (n: number): Uint8Array => new Uint8Array(n);

describe('PublishBatcher', () => {
  it('coalesces publishes of one tick into one request, one entry per topic', async () => {
    const sent: TopicRecords[][] = [];
    const batcher = new PublishBatcher(async (b) => void sent.push([...b]), 1_000_000);
    await Promise.all([
      batcher.publish('a', [{ value: bytes(1), headers: {} }]),
      batcher.publish('b', [{ value: bytes(1), headers: {} }]),
      batcher.publish('a', [{ key: 'k', value: bytes(1), headers: {} }]),
    ]);
    expect(sent).to.have.length(1);
    expect(sent[0]?.map((t) => [t.topic, t.records.length])).to.deep.equal([
      ['a', 2],
      ['b', 1],
    ]);
  });

  it('splits requests by size and keeps record order', async () => {
    const sent: TopicRecords[][] = [];
    const batcher = new PublishBatcher(async (b) => void sent.push([...b]), 1000);
    const records = [0, 1, 2, 3].map((i) => ({ value: bytes(400), headers: { i: String(i) } }));
    await batcher.publish('t', records);
    expect(sent.length).to.be.greaterThan(1);
    const order = sent.flatMap((req) => req.flatMap((t) => t.records.map((r) => r.headers['i'])));
    expect(order).to.deep.equal(['0', '1', '2', '3']);
  });

  it('rejects only the publishes whose records failed', async () => {
    const batcher = new PublishBatcher(async (b) => {
      if (b.some((t) => t.topic === 'bad')) throw new Error('broker said no');
    }, 500);
    const good = batcher.publish('good', [{ value: bytes(450), headers: {} }]);
    const bad = batcher.publish('bad', [{ value: bytes(450), headers: {} }]);
    await good;
    let error: unknown;
    await bad.catch((e: unknown) => {
      error = e;
    });
    expect((error as Error).message).to.equal('broker said no');
  });

  it('resolves an empty publish at once', async () => {
    const batcher = new PublishBatcher(() => Promise.reject(new Error('unused')), 10);
    await batcher.publish('t', []);
  });
});
