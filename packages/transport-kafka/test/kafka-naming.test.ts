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

  it("recognises a group's dead-letter topic as proof that a destination has a group", () => {
    const dlq = naming.deadLetterTopic('orders', 'billing');
    expect(naming.isGroupTopicOf(dlq, 'orders')).to.equal(true);
    expect(naming.isGroupTopicOf(naming.mainTopic('orders'), 'orders')).to.equal(false);
    expect(naming.isGroupTopicOf(naming.delayTopic('orders', 1000), 'orders')).to.equal(false);
    expect(naming.isGroupTopicOf(naming.retryTopic('orders', 'billing', 5000), 'orders')).to.equal(false);
    expect(naming.isGroupTopicOf(dlq, 'payments')).to.equal(false);
    expect(naming.isGroupTopicOf(naming.deadLetterTopic('orders-eu', 'billing'), 'orders')).to.equal(false);
  });

  it('replaces illegal characters and bounds the length', () => {
    expect(topicName('a/b c:d')).to.equal('a_b_c_d');
    const long = topicName('x'.repeat(300));
    expect(long.length).to.equal(249);
    expect(topicName('x'.repeat(300))).to.equal(long);
    expect(topicName(`${'x'.repeat(300)}y`)).not.to.equal(long);
  });
});
