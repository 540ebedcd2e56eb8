import { expect } from 'chai';
import type { ServiceBusReceivedMessage } from '@azure/service-bus';
import type { MessageEnvelope } from '@omnibus/core';
import { bodyBytes, fromReceivedMessage, toRetryCopy, toServiceBusMessage } from '../src/message-mapper.js';

const envelope: MessageEnvelope = {
  id: 'msg-1',
  type: 'orders.order-placed.v1',
  payload: new TextEncoder().encode('{"orderId":1}'),
  contentType: 'application/json',
  headers: { traceparent: '00-abc-def-01', 'x-tenant': 't1' },
  occurredAt: new Date('2024-05-01T10:00:00.000Z'),
  correlationId: 'corr-1',
  causationId: 'cause-1',
  partitionKey: 'customer-7',
};

/** A received message as the SDK would hand it over after `sent` went through the broker. */
function received(fields: Partial<ServiceBusReceivedMessage>): ServiceBusReceivedMessage {
  return {
    body: undefined,
    deliveryCount: 0,
    enqueuedTimeUtc: new Date('2024-05-01T10:00:01Z'),
    ...fields,
  } as ServiceBusReceivedMessage;
}

describe('azure message mapper', () => {
  it('maps the envelope onto native fields and application properties', () => {
    const message = toServiceBusMessage({ envelope }, 0);
    expect(Buffer.from(message.body as Buffer).toString()).to.equal('{"orderId":1}');
    expect(message.messageId).to.equal('msg-1');
    expect(message.correlationId).to.equal('corr-1');
    expect(message.contentType).to.equal('application/json');
    expect(message.subject).to.equal('orders.order-placed.v1');
    expect(message.sessionId).to.equal('customer-7');
    expect(message.scheduledEnqueueTimeUtc).to.equal(undefined);
    expect(message.applicationProperties).to.include({
      'ce-id': 'msg-1',
      'ce-type': 'orders.order-placed.v1',
      'omnibus-causation-id': 'cause-1',
      'omnibus-partition-key': 'customer-7',
      traceparent: '00-abc-def-01',
    });
  });

  it('uses the message id as session id without a partition key, and schedules delays', () => {
    const { partitionKey: _omit, ...unkeyed } = envelope;
    const message = toServiceBusMessage({ envelope: unkeyed, delayMs: 1500 }, 1_000_000);
    expect(message.sessionId).to.equal('msg-1');
    expect(message.scheduledEnqueueTimeUtc?.getTime()).to.equal(1_001_500);
  });

  it('round-trips the envelope through received fields', () => {
    const sent = toServiceBusMessage({ envelope }, 0);
    const decoded = fromReceivedMessage(
      received({
        body: sent.body as Buffer,
        messageId: sent.messageId as string,
        applicationProperties: sent.applicationProperties as Record<string, string>,
        deliveryCount: 0,
      }),
    );
    expect(decoded.envelope).to.deep.equal({ ...envelope, payload: sent.body as Buffer });
    expect(decoded.deliveryAttempt).to.equal(1);
    expect(decoded.retryTarget).to.equal(undefined);
  });

  it('counts attempts from the broker delivery count plus the carried attempt', () => {
    expect(fromReceivedMessage(received({ deliveryCount: 2 })).deliveryAttempt).to.equal(3);
    expect(
      fromReceivedMessage(
        received({ deliveryCount: 0, applicationProperties: { 'omnibus-delivery-attempt': '4' } }),
      ).deliveryAttempt,
    ).to.equal(4);
    expect(
      fromReceivedMessage(
        received({ deliveryCount: 1, applicationProperties: { 'omnibus-delivery-attempt': '4' } }),
      ).deliveryAttempt,
    ).to.equal(5);
    expect(
      fromReceivedMessage(received({ applicationProperties: { 'omnibus-delivery-attempt': 'junk' } }))
        .deliveryAttempt,
    ).to.equal(1);
  });

  it('decodes foreign messages leniently', () => {
    const decoded = fromReceivedMessage(
      received({
        body: 'plain text',
        messageId: 'native-9',
        contentType: 'text/plain',
        correlationId: 'c9',
        applicationProperties: { n: 5, flag: true },
      }),
    );
    expect(decoded.envelope.type).to.equal('');
    expect(decoded.envelope.id).to.equal('native-9');
    expect(decoded.envelope.contentType).to.equal('text/plain');
    expect(decoded.envelope.correlationId).to.equal('c9');
    expect(decoded.envelope.headers).to.deep.equal({ n: '5', flag: 'true' });
    expect(new TextDecoder().decode(decoded.envelope.payload)).to.equal('plain text');
    expect(decoded.envelope.occurredAt.toISOString()).to.equal('2024-05-01T10:00:01.000Z');
  });

  it('drops the broker-set dead-letter properties from the headers', () => {
    const decoded = fromReceivedMessage(
      received({
        applicationProperties: {
          'x-kept': '1',
          DeadLetterReason: 'HANDLER_FAILED',
          DeadLetterErrorDescription: 'boom',
        },
      }),
    );
    expect(decoded.envelope.headers).to.deep.equal({ 'x-kept': '1' });
  });

  it('turns any body into bytes', () => {
    expect(Array.from(bodyBytes(Buffer.from([1, 2])))).to.deep.equal([1, 2]);
    expect(bodyBytes(undefined).byteLength).to.equal(0);
    expect(new TextDecoder().decode(bodyBytes({ a: 1 }))).to.equal('{"a":1}');
  });

  it('builds retry copies that carry the attempt, the target subscription and the source id', () => {
    const sent = toServiceBusMessage({ envelope }, 0);
    const original = received({
      body: sent.body as Buffer,
      messageId: 'msg-1',
      sessionId: 'customer-7',
      contentType: 'application/json',
      correlationId: 'corr-1',
      subject: 'orders.order-placed.v1',
      applicationProperties: sent.applicationProperties as Record<string, string>,
      deliveryCount: 0,
    });
    const copy = toRetryCopy(original, 2, 'billing', 500, 10_000);
    expect(copy.messageId).to.equal('msg-1#2');
    expect(copy.sessionId).to.equal('customer-7');
    expect(copy.scheduledEnqueueTimeUtc?.getTime()).to.equal(10_500);
    expect(copy.applicationProperties).to.include({
      'omnibus-delivery-attempt': '2',
      'omnibus-retry-subscription': 'billing',
      'omnibus-source-message-id': 'msg-1',
    });
    const redelivered = fromReceivedMessage(
      received({
        body: copy.body as Buffer,
        messageId: copy.messageId as string,
        applicationProperties: copy.applicationProperties as Record<string, string>,
      }),
    );
    expect(redelivered.deliveryAttempt).to.equal(2);
    expect(redelivered.retryTarget).to.equal('billing');
    expect(redelivered.envelope.id).to.equal('msg-1');
    expect(redelivered.envelope.headers).to.deep.equal(envelope.headers);
    const again = toRetryCopy(
      received({
        ...original,
        applicationProperties: copy.applicationProperties as Record<string, string>,
        messageId: 'msg-1#2',
      }),
      3,
      'billing',
      0,
    );
    expect(again.messageId).to.equal('msg-1#3');
    expect(again.scheduledEnqueueTimeUtc).to.equal(undefined);
  });
});
