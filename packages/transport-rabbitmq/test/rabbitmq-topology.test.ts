import { expect } from 'chai';
import { isOmnibusError } from '@omnibus/core';
import { RabbitMqNames } from '../src/index.js';
import { delayQueueArguments, queueArguments } from '../src/rabbitmq-topology.js';

describe('RabbitMQ naming and queue arguments', () => {
  const names = new RabbitMqNames('app');

  it('names exchanges and queues under the prefix', () => {
    expect(names.destinationExchange('orders.order-placed.v1')).to.equal('app/orders.order-placed.v1');
    expect(names.groupQueue('orders.order-placed.v1', 'billing')).to.equal(
      'app/orders.order-placed.v1/billing',
    );
    expect(names.deadLetterQueue('orders.order-placed.v1', 'billing')).to.equal(
      'app/orders.order-placed.v1/billing/~dead-letter',
    );
    expect(names.delayQueue(500)).to.equal('app/~delay/500');
    expect(names.redeliverExchange()).to.equal('app/~redeliver');
  });

  it('escapes separators so different (destination, group) pairs never share a queue', () => {
    expect(names.groupQueue('a/b', 'c')).not.to.equal(names.groupQueue('a', 'b/c'));
    expect(names.groupQueue('~delay', '500')).not.to.equal(names.delayQueue(500));
    expect(names.destinationExchange('~redeliver')).not.to.equal(names.redeliverExchange());
    expect(names.groupQueue('x', 'g/~dead-letter')).not.to.equal(names.deadLetterQueue('x', 'g'));
  });

  it('rejects names longer than 255 bytes', () => {
    let error: unknown;
    try {
      names.groupQueue('d'.repeat(200), 'g'.repeat(100));
    } catch (e) {
      error = e;
    }
    expect(isOmnibusError(error) && error.code).to.equal('CONFIGURATION_INVALID');
  });

  it('declares single-active-consumer only for ordered groups', () => {
    expect(queueArguments('quorum', true)).to.deep.equal({
      'x-queue-type': 'quorum',
      'x-single-active-consumer': true,
    });
    expect(queueArguments('classic', false)).to.deep.equal({ 'x-queue-type': 'classic' });
  });

  it('gives wait queues a fixed TTL and at-least-once dead-lettering on quorum queues', () => {
    expect(delayQueueArguments('quorum', 1000, 'app/~redeliver')).to.deep.equal({
      'x-queue-type': 'quorum',
      'x-message-ttl': 1000,
      'x-dead-letter-exchange': 'app/~redeliver',
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    });
    expect(delayQueueArguments('classic', 1000, 'r')).to.deep.equal({
      'x-queue-type': 'classic',
      'x-message-ttl': 1000,
      'x-dead-letter-exchange': 'r',
    });
  });
});
