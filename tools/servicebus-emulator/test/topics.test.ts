import { expect } from 'chai';
import type { ServiceBusClient, ServiceBusReceivedMessage } from '@azure/service-bus';
import type { RunningEmulator } from '../src/index.js';
import { admin, bodiesOf, createTopic, receiveN, useEmulator, waitFor } from './helpers.js';

describe('topics and subscriptions', function () {
  this.timeout(20_000);
  let emulator: RunningEmulator;
  let client: ServiceBusClient;

  useEmulator((started, connected) => {
    emulator = started;
    client = connected;
  });

  it('copies every message to each subscription', async () => {
    const topic = await createTopic(emulator, { billing: {}, shipping: {} });
    await client.createSender(topic).sendMessages([{ body: 'o1' }, { body: 'o2' }]);
    const billing = client.createReceiver(topic, 'billing');
    const shipping = client.createReceiver(topic, 'shipping');
    const [b, s] = await Promise.all([receiveN(billing, 2), receiveN(shipping, 2)]);
    expect(bodiesOf(b)).to.deep.equal(['o1', 'o2']);
    expect(bodiesOf(s)).to.deep.equal(['o1', 'o2']);
    await Promise.all([
      ...b.map((m) => billing.completeMessage(m)),
      ...s.map((m) => shipping.completeMessage(m)),
    ]);
    // Settling in one subscription does not touch the other.
    expect(await billing.receiveMessages(1, { maxWaitTimeInMs: 100 })).to.have.length(0);
  });

  it('a subscription has its own $DeadLetterQueue', async () => {
    const topic = await createTopic(emulator, { audit: {}, other: {} });
    await client.createSender(topic).sendMessages({ body: 'bad', messageId: 'b-1' });
    const audit = client.createReceiver(topic, 'audit');
    const [m] = await receiveN(audit, 1);
    await audit.deadLetterMessage(m!, {
      deadLetterReason: 'Unreadable',
      deadLetterErrorDescription: 'cannot parse',
    });
    const dlq = client.createReceiver(topic, 'audit', { subQueueType: 'deadLetter' });
    const [dead] = await receiveN(dlq, 1);
    expect(dead!.messageId).to.equal('b-1');
    expect(dead!.deadLetterReason).to.equal('Unreadable');
    await dlq.completeMessage(dead!);
    const other = await admin(emulator, 'GET', `/topics/${topic}/subscriptions/other`);
    expect(other.body.counts).to.include({ active: 1, deadLetter: 0 });
  });

  it('subscribe() with autoComplete settles each handled message', async () => {
    const topic = await createTopic(emulator, { worker: {} });
    const receiver = client.createReceiver(topic, 'worker');
    const seen: ServiceBusReceivedMessage[] = [];
    const subscription = receiver.subscribe(
      {
        processMessage: (message) => {
          seen.push(message);
          return Promise.resolve();
        },
        processError: () => Promise.resolve(),
      },
      { autoCompleteMessages: true, maxConcurrentCalls: 2 },
    );
    await client.createSender(topic).sendMessages([{ body: 1 }, { body: 2 }, { body: 3 }]);
    await waitFor(() => (seen.length >= 3 ? true : undefined), 10_000, '3 messages handled');
    await waitFor(
      async () => {
        const res = await admin(emulator, 'GET', `/topics/${topic}/subscriptions/worker`);
        return res.body.counts?.active === 0 ? true : undefined;
      },
      5000,
      'completion',
    );
    await subscription.close();
    expect(bodiesOf(seen).sort()).to.deep.equal([1, 2, 3]);
  });

  it('subscribe() abandons when the handler throws, and the message comes back', async () => {
    const topic = await createTopic(emulator, { flaky: {} });
    const receiver = client.createReceiver(topic, 'flaky');
    const deliveryCounts: number[] = [];
    const subscription = receiver.subscribe(
      {
        processMessage: (message) => {
          deliveryCounts.push(message.deliveryCount ?? -1);
          return deliveryCounts.length === 1
            ? Promise.reject(new Error('first attempt fails'))
            : Promise.resolve();
        },
        processError: () => Promise.resolve(),
      },
      { autoCompleteMessages: true },
    );
    await client.createSender(topic).sendMessages({ body: 'once more' });
    await waitFor(() => (deliveryCounts.length >= 2 ? true : undefined), 10_000, 'redelivery');
    await subscription.close();
    expect(deliveryCounts.slice(0, 2)).to.deep.equal([0, 1]);
  });

  it('schedules on a topic and cancels by the returned sequence number', async () => {
    const topic = await createTopic(emulator, { a: {}, b: {} });
    const sender = client.createSender(topic);
    const at = new Date(Date.now() + 500);
    const [seq1, seq2] = await sender.scheduleMessages([{ body: 'go' }, { body: 'stop' }], at);
    await sender.cancelScheduledMessages(seq2!);
    const a = client.createReceiver(topic, 'a', { receiveMode: 'receiveAndDelete' });
    const b = client.createReceiver(topic, 'b', { receiveMode: 'receiveAndDelete' });
    const [ma, mb] = await Promise.all([receiveN(a, 1, 5000), receiveN(b, 1, 5000)]);
    expect(seq1!.toNumber()).to.be.greaterThan(0);
    expect(bodiesOf(ma)).to.deep.equal(['go']);
    expect(bodiesOf(mb)).to.deep.equal(['go']);
    expect(Date.now()).to.be.at.least(at.getTime());
  });

  it('rejects a receiver on a missing subscription with MessagingEntityNotFound', async () => {
    const topic = await createTopic(emulator, { present: {} });
    const error = await client
      .createReceiver(topic, 'absent')
      .receiveMessages(1, { maxWaitTimeInMs: 500 })
      .then(
        () => undefined,
        (e: unknown) => e as { code?: string },
      );
    expect(error?.code).to.equal('MessagingEntityNotFound');
  });
});
