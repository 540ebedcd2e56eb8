import { expect } from 'chai';
import { SqsNaming, toFifoId } from '../src/sqs-naming.js';

const VALID = /^[A-Za-z0-9_-]{1,80}$/;

describe('sqs naming', () => {
  it('maps dotted event names readably and keeps groups apart', () => {
    const naming = new SqsNaming({ queuePrefix: 'app-', fifo: false });
    expect(naming.topic('orders.order-placed.v1')).to.equal('app-orders_order-placed_v1');
    expect(naming.queues('orders.order-placed.v1', 'billing', true)).to.deep.equal({
      queue: 'app-orders_order-placed_v1--billing',
      deadLetterQueue: 'app-orders_order-placed_v1--billing-dlq',
    });
  });

  it('names the queue after the destination alone when queues are not per group', () => {
    const naming = new SqsNaming({ queuePrefix: '', fifo: false });
    expect(naming.queues('orders', 'billing', false)).to.deep.equal(
      naming.queues('orders', 'shipping', false),
    );
    expect(naming.queues('orders', 'billing', false).queue).to.equal('orders');
  });

  it('adds .fifo to FIFO queues and topics (dead-letter queues included)', () => {
    const naming = new SqsNaming({ queuePrefix: '', fifo: true });
    expect(naming.topic('orders')).to.equal('orders.fifo');
    expect(naming.queues('orders', 'g', true)).to.deep.equal({
      queue: 'orders--g.fifo',
      deadLetterQueue: 'orders--g-dlq.fifo',
    });
  });

  it('replaces other characters and hashes so distinct names stay distinct', () => {
    const naming = new SqsNaming({ queuePrefix: '', fifo: false });
    const a = naming.topic('orders/placed');
    const b = naming.topic('orders:placed');
    expect(a).to.match(VALID);
    expect(b).to.match(VALID);
    expect(a).to.not.equal(b);
  });

  it('keeps every name within 80 characters, FIFO and dead-letter suffix included', () => {
    const naming = new SqsNaming({ queuePrefix: 'a'.repeat(40), fifo: true });
    const long = 'x'.repeat(200);
    const names = naming.queues(long, 'y'.repeat(100), true);
    for (const name of [names.queue, names.deadLetterQueue, naming.topic(long)]) {
      expect(name.length).to.be.at.most(80);
      expect(name.replace(/\.fifo$/, '')).to.match(VALID);
    }
    expect(naming.queues(long, 'g1', true).queue).to.not.equal(naming.queues(long, 'g2', true).queue);
  });

  it('passes valid FIFO ids through and hashes the rest', () => {
    expect(toFifoId('order-7')).to.equal('order-7');
    expect(toFifoId('with space')).to.match(/^[0-9a-f]{64}$/);
    expect(toFifoId('x'.repeat(129))).to.match(/^[0-9a-f]{64}$/);
    expect(toFifoId('')).to.match(/^[0-9a-f]{64}$/);
  });
});
