import { expect } from 'chai';
import type { Message } from 'amqplib';
import { createEnvelope, readDeadLetterInfo } from '@omnibus/core';
import {
  amqpHeadersToWire,
  amqpToReceived,
  deadLetterCopy,
  deliveryAttemptOf,
  envelopeToAmqp,
  retryCopy,
} from '../src/rabbitmq-message-mapper.js';

function message(
  options: {
    headers?: Record<string, unknown>;
    redelivered?: boolean;
    properties?: Record<string, unknown>;
  } = {},
): Message {
  return {
    content: Buffer.from('{"a":1}'),
    fields: { deliveryTag: 1, redelivered: options.redelivered ?? false, exchange: 'x', routingKey: '' },
    properties: {
      contentType: undefined,
      contentEncoding: undefined,
      headers: options.headers,
      deliveryMode: 2,
      priority: undefined,
      correlationId: undefined,
      replyTo: undefined,
      expiration: undefined,
      messageId: undefined,
      timestamp: undefined,
      type: undefined,
      userId: undefined,
      appId: undefined,
      clusterId: undefined,
      ...options.properties,
    },
  };
}

const envelope = createEnvelope({
  id: 'id-1',
  type: 'orders.order-placed.v1',
  payload: new TextEncoder().encode('{"a":1}'),
  contentType: 'application/json',
  headers: { 'x-tenant': 't1', traceparent: '00-trace' },
  occurredAt: new Date('2024-05-01T10:00:00.123Z'),
  correlationId: 'corr',
  causationId: 'cause',
  partitionKey: 'key-1',
});

describe('RabbitMQ message mapper', () => {
  it('maps an envelope to persistent, mandatory AMQP properties and wire headers', () => {
    const { content, options } = envelopeToAmqp(envelope);
    expect(content.toString()).to.equal('{"a":1}');
    expect(options).to.include({
      persistent: true,
      mandatory: true,
      messageId: 'id-1',
      correlationId: 'corr',
      contentType: 'application/json',
      type: 'orders.order-placed.v1',
      timestamp: Math.floor(Date.parse('2024-05-01T10:00:00.123Z') / 1000),
    });
    expect(options.headers).to.include({
      'ce-id': 'id-1',
      'ce-type': 'orders.order-placed.v1',
      'ce-time': '2024-05-01T10:00:00.123Z',
      'omnibus-causation-id': 'cause',
      'omnibus-partition-key': 'key-1',
      'x-tenant': 't1',
    });
  });

  it('round-trips an envelope through AMQP headers', () => {
    const { options } = envelopeToAmqp(envelope);
    const { envelope: back, deliveryAttempt } = amqpToReceived(
      message({ headers: options.headers as Record<string, unknown>, properties: { ...options } }),
    );
    expect(deliveryAttempt).to.equal(1);
    expect(back.id).to.equal('id-1');
    expect(back.type).to.equal('orders.order-placed.v1');
    expect(back.occurredAt.toISOString()).to.equal('2024-05-01T10:00:00.123Z');
    expect(back.correlationId).to.equal('corr');
    expect(back.causationId).to.equal('cause');
    expect(back.partitionKey).to.equal('key-1');
    expect(back.headers).to.deep.equal({ 'x-tenant': 't1', traceparent: '00-trace' });
    expect(Array.from(back.payload)).to.deep.equal(Array.from(envelope.payload));
  });

  it('falls back to native properties for foreign messages', () => {
    const { envelope: foreign } = amqpToReceived(
      message({
        headers: { custom: 'v' },
        properties: {
          messageId: 'native-id',
          contentType: 'text/plain',
          type: 'native.type',
          timestamp: 1_700_000_000,
        },
      }),
    );
    expect(foreign.id).to.equal('native-id');
    expect(foreign.type).to.equal('native.type');
    expect(foreign.contentType).to.equal('text/plain');
    expect(foreign.occurredAt.getTime()).to.equal(1_700_000_000_000);
    expect(foreign.headers).to.deep.equal({ custom: 'v' });
    expect(amqpToReceived(message()).envelope.type).to.equal('');
  });

  it('gives a foreign message without any id a generated one, which copies carry as message id', () => {
    const received = amqpToReceived(message({ headers: { custom: 'v' } }));
    expect(received.envelope.id).to.match(/^amqp-/);
    const copy = retryCopy(message({ headers: { custom: 'v' } }), received.envelope.id, 2);
    expect(copy.options.messageId).to.equal(received.envelope.id);
    const kept = retryCopy(message({ properties: { messageId: 'native' } }), 'other', 2);
    expect(kept.options.messageId).to.equal('native');
  });

  it('leaves native short-string properties unset when a value is longer than 255 bytes', () => {
    const long = 'é'.repeat(200);
    const { options } = envelopeToAmqp(
      createEnvelope({ type: 't', payload: new Uint8Array(), contentType: 'x', correlationId: long }),
    );
    expect(options).not.to.have.property('correlationId');
    expect((options.headers as Record<string, string>)['omnibus-correlation-id']).to.equal(long);
  });

  it('stringifies header values and drops broker-owned headers', () => {
    const wire = amqpHeadersToWire({
      n: 5,
      b: true,
      buf: Buffer.from('bytes'),
      table: { nested: 1 },
      'x-death': [{ count: 1 }],
      'x-first-death-queue': 'q',
      'x-delivery-count': 2,
      'x-user': 'kept',
    });
    expect(wire).to.deep.equal({ n: '5', b: 'true', buf: 'bytes', 'x-user': 'kept' });
  });

  it('computes the attempt from the carried header and the broker redelivery count', () => {
    expect(deliveryAttemptOf(message())).to.equal(1);
    expect(deliveryAttemptOf(message({ redelivered: true }))).to.equal(2);
    expect(deliveryAttemptOf(message({ redelivered: true, headers: { 'x-delivery-count': 3 } }))).to.equal(4);
    expect(deliveryAttemptOf(message({ headers: { 'omnibus-delivery-attempt': '3' } }))).to.equal(3);
    expect(
      deliveryAttemptOf(
        message({ redelivered: true, headers: { 'omnibus-delivery-attempt': '3', 'x-delivery-count': 1 } }),
      ),
    ).to.equal(4);
    expect(deliveryAttemptOf(message({ headers: { 'omnibus-delivery-attempt': 'junk' } }))).to.equal(1);
  });

  it('builds a retry copy with the next attempt and without dead-letter history', () => {
    const original = message({
      headers: {
        'ce-id': 'id-1',
        'x-death': [{ count: 1 }],
        'x-first-death-reason': 'expired',
        'x-delivery-count': 1,
        custom: 7,
      },
      properties: { messageId: 'id-1', contentType: 'application/json', type: 't', timestamp: 5 },
    });
    const { content, options } = retryCopy(original, 'id-1', 4);
    expect(content).to.equal(original.content);
    expect(options.headers).to.deep.equal({ 'ce-id': 'id-1', custom: 7, 'omnibus-delivery-attempt': '4' });
    expect(options).to.include({
      persistent: true,
      mandatory: true,
      messageId: 'id-1',
      contentType: 'application/json',
      type: 't',
      timestamp: 5,
    });
  });

  it('builds a dead-letter copy with reason, attempts and origin', () => {
    const original = message({
      headers: { 'ce-id': 'id-1', 'omnibus-delivery-attempt': '3', 'x-death': [] },
      properties: { messageId: 'id-1' },
    });
    const { options } = deadLetterCopy(
      original,
      'id-1',
      { code: 'HANDLER_FAILED', message: 'boom', attempts: 3 },
      { destination: 'd', group: 'g' },
    );
    const headers = options.headers as Record<string, string>;
    expect(headers['ce-id']).to.equal('id-1');
    expect(headers).not.to.have.property('omnibus-delivery-attempt');
    expect(headers).not.to.have.property('x-death');
    expect(readDeadLetterInfo(headers)).to.include({
      code: 'HANDLER_FAILED',
      message: 'boom',
      attempts: 3,
      destination: 'd',
      group: 'g',
    });
    expect(options.messageId).to.equal('id-1');
  });
});
