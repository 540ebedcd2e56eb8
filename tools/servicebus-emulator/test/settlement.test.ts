import { expect } from 'chai';
import type { ServiceBusClient } from '@azure/service-bus';
import type { RunningEmulator } from '../src/index.js';
import { admin, bodiesOf, createQueue, receiveN, useEmulator, waitFor } from './helpers.js';

describe('dead-letter, defer and scheduling', function () {
  this.timeout(20_000);
  let emulator: RunningEmulator;
  let client: ServiceBusClient;

  useEmulator((started, connected) => {
    emulator = started;
    client = connected;
  });

  it('deadLetterMessage moves the message to $DeadLetterQueue with reason, description and the original fields', async () => {
    const queue = await createQueue(emulator);
    await client.createSender(queue).sendMessages({
      body: { order: 42 },
      messageId: 'order-42',
      correlationId: 'corr-42',
      contentType: 'application/json',
      subject: 'OrderPlaced',
      applicationProperties: { source: 'shop', version: 2 },
    });
    const receiver = client.createReceiver(queue);
    const [message] = await receiveN(receiver, 1);
    await receiver.deadLetterMessage(message!, {
      deadLetterReason: 'ValidationFailed',
      deadLetterErrorDescription: 'order total is negative',
      extra: 'kept',
    });
    expect(await receiver.peekMessages(5)).to.have.length(0);
    const dlq = client.createReceiver(queue, { subQueueType: 'deadLetter' });
    const [dead] = await receiveN(dlq, 1);
    expect(dead!.deadLetterReason).to.equal('ValidationFailed');
    expect(dead!.deadLetterErrorDescription).to.equal('order total is negative');
    expect(dead!.applicationProperties).to.include({
      source: 'shop',
      version: 2,
      DeadLetterReason: 'ValidationFailed',
      DeadLetterErrorDescription: 'order total is negative',
      extra: 'kept',
    });
    expect(dead!.body).to.deep.equal({ order: 42 });
    expect(dead!.messageId).to.equal('order-42');
    expect(dead!.correlationId).to.equal('corr-42');
    expect(dead!.contentType).to.equal('application/json');
    expect(dead!.subject).to.equal('OrderPlaced');
    expect(dead!.sequenceNumber!.toNumber()).to.equal(message!.sequenceNumber!.toNumber());
    await dlq.completeMessage(dead!);
    const counts = await admin(emulator, 'GET', `/queues/${queue}`);
    expect(counts.body.counts?.deadLetter).to.equal(0);
  });

  it('defer, then receiveDeferredMessages by sequence number, then complete', async () => {
    const queue = await createQueue(emulator);
    await client.createSender(queue).sendMessages([{ body: 'later' }, { body: 'now' }]);
    const receiver = client.createReceiver(queue);
    const [first, second] = await receiveN(receiver, 2);
    expect(first!.body).to.equal('later');
    const seq = first!.sequenceNumber!;
    await receiver.deferMessage(first!);
    await receiver.completeMessage(second!);
    // A deferred message is not delivered again by a normal receive.
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 })).to.have.length(0);
    const peeked = await receiver.peekMessages(5, { fromSequenceNumber: seq });
    expect(peeked.map((m) => m.state)).to.deep.equal(['deferred']);
    const [deferred] = await receiver.receiveDeferredMessages([seq]);
    expect(deferred!.body).to.equal('later');
    expect(deferred!.state).to.equal('deferred');
    expect(deferred!.deliveryCount).to.equal(1);
    expect(deferred!.lockToken).to.match(/^[0-9a-f-]{36}$/);
    await receiver.completeMessage(deferred!);
    expect(await receiver.peekMessages(5, { fromSequenceNumber: seq })).to.have.length(0);
    const missing = await receiver.receiveDeferredMessages([seq]).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(missing?.code).to.equal('MessageNotFound');
  });

  it('abandon and dead-letter of a deferred message go through update-disposition', async () => {
    const queue = await createQueue(emulator);
    await client.createSender(queue).sendMessages({ body: 'x' });
    const receiver = client.createReceiver(queue);
    const [m] = await receiveN(receiver, 1);
    await receiver.deferMessage(m!);
    const [d1] = await receiver.receiveDeferredMessages([m!.sequenceNumber!]);
    await receiver.abandonMessage(d1!);
    const [d2] = await receiver.receiveDeferredMessages([m!.sequenceNumber!]);
    expect(d2!.deliveryCount).to.equal(2);
    await receiver.deadLetterMessage(d2!, {
      deadLetterReason: 'gave up',
      deadLetterErrorDescription: 'after defer',
    });
    const dlq = client.createReceiver(queue, { subQueueType: 'deadLetter', receiveMode: 'receiveAndDelete' });
    const [dead] = await receiveN(dlq, 1);
    expect(dead!.deadLetterReason).to.equal('gave up');
  });

  it('scheduleMessages holds a message until its time; cancelScheduledMessages removes one', async () => {
    const queue = await createQueue(emulator);
    const sender = client.createSender(queue);
    const at = new Date(Date.now() + 1500);
    const [keep, cancel] = await sender.scheduleMessages([{ body: 'keep' }, { body: 'cancel' }], at);
    expect(keep!.toNumber()).to.be.greaterThan(0);
    const peeked = await client.createReceiver(queue).peekMessages(5);
    expect(peeked.map((m) => m.state)).to.deep.equal(['scheduled', 'scheduled']);
    await sender.cancelScheduledMessages(cancel!);
    const receiver = client.createReceiver(queue, { receiveMode: 'receiveAndDelete' });
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 })).to.have.length(0);
    const messages = await receiveN(receiver, 1, 5000);
    expect(Date.now()).to.be.at.least(at.getTime());
    expect(bodiesOf(messages)).to.deep.equal(['keep']);
    expect(messages[0]!.sequenceNumber!.toNumber()).to.equal(keep!.toNumber());
    expect(messages[0]!.enqueuedTimeUtc!.getTime()).to.be.at.least(at.getTime() - 5);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 300 })).to.have.length(0);
  });

  it('a send with scheduledEnqueueTimeUtc is not delivered before that time', async () => {
    const queue = await createQueue(emulator);
    const at = new Date(Date.now() + 700);
    await client
      .createSender(queue)
      .sendMessages([{ body: 'delayed', scheduledEnqueueTimeUtc: at }, { body: 'immediate' }]);
    const receiver = client.createReceiver(queue, { receiveMode: 'receiveAndDelete' });
    const [first] = await receiveN(receiver, 1);
    expect(first!.body).to.equal('immediate');
    const [second] = await receiveN(receiver, 1, 5000);
    expect(second!.body).to.equal('delayed');
    expect(Date.now()).to.be.at.least(at.getTime());
  });

  it('expires messages after their time to live (entity default and per message)', async () => {
    const queue = await createQueue(emulator, { defaultTtlMs: 300 });
    await client.createSender(queue).sendMessages([{ body: 'short' }, { body: 'shorter', timeToLive: 100 }]);
    await waitFor(
      async () => {
        const res = await admin(emulator, 'GET', `/queues/${queue}`);
        return res.body.counts?.active === 0 ? true : undefined;
      },
      5000,
      'expiry',
    );
    const receiver = client.createReceiver(queue);
    expect(await receiver.receiveMessages(2, { maxWaitTimeInMs: 200 })).to.have.length(0);
  });
});
