import { expect } from 'chai';
import { KafkaNaming, topicName } from '../src/kafka-naming.js';

describe('KafkaNaming', () => {
  const naming = new KafkaNaming({ topicPrefix: 'acme.', groupIdPrefix: 'svc-' });

  it('names topics and groups per destination and group', () => {
    expect(naming.mainTopic('orders.order-placed.v1')).to.equal('acme.orders.order-placed.v1');
    expect(naming.delayTopic('orders', 1000)).to.equal('acme.orders.delay-1000');
    expect(naming.retryTopic('orders', 'billing', 5000)).to.equal('acme.orders.billing.retry-5000');
    expect(naming.deadLetterTopic('orders', 'billing')).to.equal('acme.orders.billing.dlq');
    expect(naming.groupId('orders', 'billing')).to.equal('svc-billing.orders');
  });

  it('replaces illegal characters and bounds the length', () => {
    expect(topicName('a/b c:d')).to.equal('a_b_c_d');
    const long = topicName('x'.repeat(300));
    expect(long.length).to.equal(249);
    expect(topicName('x'.repeat(300))).to.equal(long);
    expect(topicName(`${'x'.repeat(300)}y`)).not.to.equal(long);
  });
});
