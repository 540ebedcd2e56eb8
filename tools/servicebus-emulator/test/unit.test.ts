import { expect } from 'chai';
import { ConfigError, resolveConfig } from '../src/config.js';
import { parseAddress } from '../src/entity-store.js';
import {
  deliveryTagFor,
  lockKeyFromRequest,
  newLockToken,
  reorderGuidBytes,
  uuidString,
} from '../src/lock-token.js';
import { fromEncoded, renderMessage, unpackBatch } from '../src/amqp-message.js';
import type { Message } from 'rhea';
import { amqp, amqpTypes } from '../src/rhea-compat.js';

describe('unit: lock tokens', () => {
  it('the delivery tag is the GUID-reordered canonical token, which the SDK reorders back', () => {
    const token = newLockToken();
    const tag = deliveryTagFor(token);
    expect(tag.equals(token.bytes)).to.equal(false);
    expect(uuidString(reorderGuidBytes(tag))).to.equal(token.key);
    expect(lockKeyFromRequest(token.bytes)).to.equal(token.key);
  });
});

describe('unit: addresses', () => {
  it('parses queues, subscriptions, sub-queues and management nodes', () => {
    expect(parseAddress('orders')).to.deep.equal({
      entity: 'orders',
      subscription: undefined,
      subQueue: 'main',
      management: false,
    });
    expect(parseAddress('orders/$DeadLetterQueue')?.subQueue).to.equal('deadLetter');
    expect(parseAddress('orders/$Transfer/$DeadLetterQueue')?.subQueue).to.equal('transferDeadLetter');
    expect(parseAddress('t/Subscriptions/s/$DeadLetterQueue/$management')).to.deep.equal({
      entity: 't',
      subscription: 's',
      subQueue: 'deadLetter',
      management: true,
    });
    expect(parseAddress('sb://127.0.0.1:5673/orders')?.entity).to.equal('orders');
    expect(parseAddress('a/b')).to.equal(undefined);
  });
});

describe('unit: config', () => {
  it('fills defaults and lists every problem', () => {
    const config = resolveConfig({
      entities: {
        queues: [{ name: 'q', lockDurationMs: 500 }],
        topics: [{ name: 't', subscriptions: [{ name: 's' }] }],
      },
    });
    expect(config.queues[0]?.options).to.include({
      lockDurationMs: 500,
      maxDeliveryCount: 10,
      requiresSession: false,
    });
    expect(() =>
      resolveConfig({ entities: { queues: [{ name: 'bad/name' }, { name: 'ok', maxDeliveryCount: 0 }] } }),
    )
      .to.throw(ConfigError)
      .with.property('problems')
      .that.has.length(2);
  });
});

describe('unit: message encoding', () => {
  it("keeps the client's sections and replaces header and annotations", () => {
    const message: Message = {
      message_id: 'id-1',
      application_properties: { n: 1 },
      message_annotations: { 'x-opt-partition-key': 'pk' },
      body: amqp.message.data_section(Buffer.from('payload')) as unknown,
    };
    const raw = amqp.message.encode(message);
    const encoded = fromEncoded(raw);
    expect(encoded.fields.messageId).to.equal('id-1');
    expect(encoded.fields.partitionKey).to.equal('pk');
    const out = renderMessage(encoded, {
      deliveryCount: 2,
      annotations: [['x-opt-sequence-number', amqpTypes.wrap_long(7)]],
      extraProperties: { DeadLetterReason: 'r' },
    });
    const decoded = amqp.message.decode(out) as unknown as Message;
    expect(decoded.delivery_count).to.equal(2);
    expect(decoded.message_annotations).to.deep.equal({
      'x-opt-partition-key': 'pk',
      'x-opt-sequence-number': 7,
    });
    expect(decoded.application_properties).to.deep.equal({ n: 1, DeadLetterReason: 'r' });
    expect((decoded.body as { content: Buffer }).content.toString()).to.equal('payload');
  });

  it('unpacks a batch envelope', () => {
    const inner = [amqp.message.encode({ body: 'a' }), amqp.message.encode({ body: 'b' })];
    const envelope = amqp.message.encode({ body: amqp.message.data_sections(inner) as unknown });
    expect(
      unpackBatch(envelope).map((m) => (amqp.message.decode(m.raw) as { body?: unknown }).body),
    ).to.deep.equal(['a', 'b']);
  });
});
