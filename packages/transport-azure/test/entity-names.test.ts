import { expect } from 'chai';
import { sessionIdFor, subscriptionName, topicName } from '../src/entity-names.js';

describe('azure entity names', () => {
  it('keeps valid names unchanged and prepends the prefix', () => {
    expect(topicName('', 'orders.order-placed.v1')).to.equal('orders.order-placed.v1');
    expect(topicName('staging.', 'orders.order-placed.v1')).to.equal('staging.orders.order-placed.v1');
    expect(subscriptionName('billing')).to.equal('billing');
  });

  it('sanitises invalid characters with a hash suffix so different names never collide', () => {
    const a = subscriptionName('billing team');
    const b = subscriptionName('billing-team');
    expect(a).to.match(/^billing-team-[0-9a-f]{8}$/);
    expect(b).to.equal('billing-team');
    expect(a).not.to.equal(b);
    expect(topicName('', 'orders:placed')).to.match(/^orders-placed-[0-9a-f]{8}$/);
  });

  it('shortens long subscription names to 50 characters deterministically', () => {
    const long = `group-${'x'.repeat(80)}`;
    const name = subscriptionName(long);
    expect(name.length).to.be.at.most(50);
    expect(subscriptionName(long)).to.equal(name);
    expect(subscriptionName(`${long}y`)).not.to.equal(name);
    expect(name).to.match(/^[A-Za-z0-9].*[A-Za-z0-9]$/);
  });

  it('uses the partition key as session id and hashes keys over 128 characters', () => {
    expect(sessionIdFor('customer-42')).to.equal('customer-42');
    const long = 'k'.repeat(200);
    expect(sessionIdFor(long)).to.match(/^sha256-[0-9a-f]{64}$/);
    expect(sessionIdFor(long)).to.equal(sessionIdFor(long));
  });
});
