import { expect } from 'chai';
import type { ServiceBusClient } from '@azure/service-bus';
import type { RunningEmulator } from '../src/index.js';
import { bodiesOf, createQueue, receiveN, useEmulator } from './helpers.js';

describe('queues through @azure/service-bus', function () {
  this.timeout(20_000);
  let emulator: RunningEmulator;
  let client: ServiceBusClient;

  useEmulator((started, connected) => {
    emulator = started;
    client = connected;
  });

  it('sends, receives in peek-lock and completes; a completed message is gone', async () => {
    const queue = await createQueue(emulator);
    const sender = client.createSender(queue);
    await sender.sendMessages({
      body: { hello: 'world' },
      messageId: 'm-1',
      correlationId: 'c-1',
      contentType: 'application/json',
      subject: 'greeting',
      applicationProperties: { tenant: 'acme', attempt: 3, flag: true },
    });
    const receiver = client.createReceiver(queue);
    const [message] = await receiveN(receiver, 1);
    expect(message).to.not.equal(undefined);
    expect(message!.body).to.deep.equal({ hello: 'world' });
    expect(message!.messageId).to.equal('m-1');
    expect(message!.correlationId).to.equal('c-1');
    expect(message!.contentType).to.equal('application/json');
    expect(message!.subject).to.equal('greeting');
    expect(message!.applicationProperties).to.deep.equal({ tenant: 'acme', attempt: 3, flag: true });
    expect(message!.deliveryCount).to.equal(0);
    expect(message!.sequenceNumber?.toNumber()).to.equal(1);
    expect(message!.lockToken).to.match(/^[0-9a-f-]{36}$/);
    expect(message!.enqueuedTimeUtc).to.be.instanceOf(Date);
    expect(message!.lockedUntilUtc!.getTime()).to.be.greaterThan(Date.now());
    await receiver.completeMessage(message!);
    expect(await receiver.peekMessages(10)).to.have.length(0);
    await receiver.close();
    await sender.close();
  });

  it('gives a message without a message id one, like Service Bus', async () => {
    const queue = await createQueue(emulator);
    await client.createSender(queue).sendMessages({ body: 'no id' });
    const receiver = client.createReceiver(queue);
    const [message] = await receiveN(receiver, 1);
    expect(message!.messageId).to.be.a('string').and.not.equal('');
    await receiver.completeMessage(message!);
  });

  it('accepts batches (sendMessages array and createMessageBatch) and keeps the order', async () => {
    const queue = await createQueue(emulator);
    const sender = client.createSender(queue);
    await sender.sendMessages([{ body: 'a' }, { body: 'b' }, { body: 'c' }]);
    const batch = await sender.createMessageBatch();
    for (const body of ['d', 'e']) expect(batch.tryAddMessage({ body })).to.equal(true);
    expect(batch.maxSizeInBytes).to.equal(256 * 1024);
    await sender.sendMessages(batch);
    const receiver = client.createReceiver(queue, { receiveMode: 'receiveAndDelete' });
    const messages = await receiveN(receiver, 5);
    expect(bodiesOf(messages)).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
    expect(messages.map((m) => m.sequenceNumber!.toNumber())).to.deep.equal([1, 2, 3, 4, 5]);
    expect(await receiver.peekMessages(10)).to.have.length(0);
  });

  it('peeks without locking, from a sequence number', async () => {
    const queue = await createQueue(emulator);
    await client.createSender(queue).sendMessages([{ body: 1 }, { body: 2 }, { body: 3 }]);
    const receiver = client.createReceiver(queue);
    const peeked = await receiver.peekMessages(2);
    expect(bodiesOf(peeked)).to.deep.equal([1, 2]);
    expect(peeked[0]!.lockToken).to.equal(undefined);
    const next = await receiver.peekMessages(5);
    expect(bodiesOf(next)).to.deep.equal([3]);
    const fromStart = await receiver.peekMessages(5, { fromSequenceNumber: peeked[0]!.sequenceNumber! });
    expect(fromStart).to.have.length(3);
    const received = await receiveN(receiver, 3);
    expect(received).to.have.length(3);
  });

  it('abandon makes the message available again with deliveryCount + 1', async () => {
    const queue = await createQueue(emulator);
    await client.createSender(queue).sendMessages({ body: 'retry me' });
    const receiver = client.createReceiver(queue);
    const [first] = await receiveN(receiver, 1);
    expect(first!.deliveryCount).to.equal(0);
    await receiver.abandonMessage(first!, { reason: 'try later' });
    const [second] = await receiveN(receiver, 1);
    expect(second!.deliveryCount).to.equal(1);
    expect(second!.sequenceNumber!.toNumber()).to.equal(first!.sequenceNumber!.toNumber());
    expect(second!.applicationProperties).to.deep.equal({ reason: 'try later' });
    expect(second!.lockToken).to.not.equal(first!.lockToken);
    await receiver.completeMessage(second!);
  });

  it('answers drain: an empty receiveMessages returns [] after its wait, and the link stays usable', async () => {
    const queue = await createQueue(emulator);
    const receiver = client.createReceiver(queue);
    const started = Date.now();
    const empty = await receiver.receiveMessages(10, { maxWaitTimeInMs: 300 });
    const elapsed = Date.now() - started;
    expect(empty).to.deep.equal([]);
    expect(elapsed).to.be.lessThan(1500);
    // After a drain that used all credit the link still works.
    await client.createSender(queue).sendMessages([{ body: 1 }, { body: 2 }]);
    const two = await receiver.receiveMessages(2, { maxWaitTimeInMs: 5000 });
    expect(two).to.have.length(2);
    await client.createSender(queue).sendMessages({ body: 3 });
    const one = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(bodiesOf(one)).to.deep.equal([3]);
  });

  it('competing receivers each get distinct messages', async () => {
    const queue = await createQueue(emulator);
    const bodies = Array.from({ length: 20 }, (_, i) => i);
    await client.createSender(queue).sendMessages(bodies.map((body) => ({ body })));
    const a = client.createReceiver(queue);
    const b = client.createReceiver(queue);
    const [fromA, fromB] = await Promise.all([receiveN(a, 10, 5000), receiveN(b, 10, 5000)]);
    expect(fromA.length).to.be.greaterThan(0);
    expect(fromB.length).to.be.greaterThan(0);
    const all = bodiesOf([...fromA, ...fromB])
      .map(Number)
      .sort((x, y) => x - y);
    expect(all).to.deep.equal(bodies);
    await Promise.all([...fromA.map((m) => a.completeMessage(m)), ...fromB.map((m) => b.completeMessage(m))]);
  });

  it('rejects sends and receives on a missing entity with MessagingEntityNotFound', async () => {
    const error = await client
      .createSender('does-not-exist')
      .sendMessages({ body: 1 })
      .then(
        () => undefined,
        (e: unknown) => e as { code?: string },
      );
    expect(error?.code).to.equal('MessagingEntityNotFound');
    const rerr = await client
      .createReceiver('does-not-exist')
      .receiveMessages(1, { maxWaitTimeInMs: 1000 })
      .then(
        () => undefined,
        (e: unknown) => e as { code?: string },
      );
    expect(rerr?.code).to.equal('MessagingEntityNotFound');
  });

  it('rejects an oversize message with MessageSizeExceeded', async () => {
    const queue = await createQueue(emulator);
    const error = await client
      .createSender(queue)
      .sendMessages({ body: Buffer.alloc(300 * 1024) })
      .then(
        () => undefined,
        (e: unknown) => e as { code?: string },
      );
    expect(error?.code).to.equal('MessageSizeExceeded');
  });
});
