import { expect } from 'chai';
import { parseAckSubject } from '../src/nats-pulled-message.js';

describe('NATS pulled message', () => {
  it('reads stream, consumer, delivery count, sequence and store time from a 2.9 ack subject', () => {
    expect(parseAckSubject('$JS.ACK.ot_orders.billing~p3.2.17.40.1764650000123456789.5')).to.deep.equal({
      stream: 'ot_orders',
      consumer: 'billing~p3',
      deliveryCount: 2,
      streamSequence: 17,
      timestampNanos: 1764650000123456789,
    });
  });

  it('reads the newer form with domain, account hash and a trailing token', () => {
    const info = parseAckSubject('$JS.ACK._.ACCHASH.s.c.1.9.9.1764650000000000000.0.xyz');
    expect(info?.stream).to.equal('s');
    expect(info?.consumer).to.equal('c');
    expect(info?.deliveryCount).to.equal(1);
    expect(info?.streamSequence).to.equal(9);
  });

  it('refuses what is not a JetStream delivery', () => {
    expect(parseAckSubject('')).to.equal(undefined);
    expect(parseAckSubject('_INBOX.abc.1')).to.equal(undefined);
    expect(parseAckSubject('$JS.ACK.s.c.x.1.1.1.0')).to.equal(undefined);
    expect(parseAckSubject('$JS.ACK.s.c.0.1.1.1.0'), 'delivery count 0').to.equal(undefined);
    expect(parseAckSubject('$JS.ACK.s.c.1.1')).to.equal(undefined);
  });
});
