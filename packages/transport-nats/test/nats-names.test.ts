import { expect } from 'chai';
import { NatsNames, encodeNameToken } from '../src/index.js';
import { fnv1a } from '../src/nats-names.js';

describe('NATS names', () => {
  it('encodes any name as one token of [A-Za-z0-9_~-], injectively', () => {
    expect(encodeNameToken('orders.placed.v1')).to.equal('orders~2Eplaced~2Ev1');
    expect(encodeNameToken('a b>*/é')).to.match(/^[A-Za-z0-9_~-]+$/);
    expect(encodeNameToken('a.b')).not.to.equal(encodeNameToken('a_b'));
    expect(encodeNameToken('a~2Eb')).not.to.equal(encodeNameToken('a.b'));
  });

  it('shortens long names with a hash, keeping distinct names distinct', () => {
    const a = encodeNameToken('x'.repeat(300));
    const b = encodeNameToken(`${'x'.repeat(299)}y`);
    expect(a.length).to.be.at.most(100);
    expect(a).not.to.equal(b);
  });

  it('names streams, subjects and consumers per prefix; ordered groups get one consumer per partition', () => {
    const names = new NatsNames('p', 4);
    expect(names.stream('orders.v1')).to.equal('p_orders~2Ev1');
    expect(names.streamSubjects('orders.v1')).to.equal('p.orders~2Ev1.>');
    expect(names.partitionSubject('orders.v1', 3)).to.equal('p.orders~2Ev1.p3');
    expect(names.consumers('billing', false)).to.deep.equal(['billing']);
    expect(names.consumers('billing', true)).to.deep.equal([
      'billing~p0',
      'billing~p1',
      'billing~p2',
      'billing~p3',
    ]);
    expect(names.deadLetterSubject('orders.v1', 'billing')).to.equal('p.~dlq.orders~2Ev1.billing');
  });

  it('hashes a partition key stably (FNV-1a), falling back to the id', () => {
    const names = new NatsNames('p', 8);
    expect(fnv1a('')).to.equal(0x811c9dc5);
    expect(fnv1a('a')).to.equal(0xe40c292c);
    expect(names.partitionOf('customer-1', 'id-1')).to.equal(names.partitionOf('customer-1', 'id-2'));
    expect(names.partitionOf(undefined, 'id-1')).to.equal(fnv1a('id-1') % 8);
  });
});
