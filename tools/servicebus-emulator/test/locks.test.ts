import { expect } from 'chai';
import type { ServiceBusClient } from '@azure/service-bus';
import type { RunningEmulator } from '../src/index.js';
import { admin, createQueue, receiveN, useEmulator } from './helpers.js';

describe('peek-lock: expiry, renewal, max delivery count', function () {
  this.timeout(20_000);
  let emulator: RunningEmulator;
  let client: ServiceBusClient;

  useEmulator((started, connected) => {
    emulator = started;
    client = connected;
  });

  it('redelivers a message whose lock expired, with deliveryCount + 1, and settling the old lock fails with MessageLockLost', async () => {
    const queue = await createQueue(emulator, { lockDurationMs: 400 });
    await client.createSender(queue).sendMessages({ body: 'slow' });
    // Auto lock renewal would keep the lock alive; turn it off to let it expire.
    const receiver = client.createReceiver(queue, { maxAutoLockRenewalDurationInMs: 0 });
    const [first] = await receiveN(receiver, 1);
    expect(first!.deliveryCount).to.equal(0);
    expect(first!.lockedUntilUtc!.getTime() - Date.now()).to.be.at.most(400);
    const [second] = await receiveN(receiver, 1, 5000);
    expect(second, 'redelivered after the lock expired').to.not.equal(undefined);
    expect(second!.deliveryCount).to.equal(1);
    expect(second!.messageId).to.equal(first!.messageId);
    const error = await receiver.completeMessage(first!).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(error?.code).to.equal('MessageLockLost');
    await receiver.completeMessage(second!);
  });

  it('renewMessageLock extends the lock past its original expiry', async () => {
    const queue = await createQueue(emulator, { lockDurationMs: 1000 });
    await client.createSender(queue).sendMessages({ body: 'long job' });
    const receiver = client.createReceiver(queue, { maxAutoLockRenewalDurationInMs: 0 });
    const [message] = await receiveN(receiver, 1);
    const original = message!.lockedUntilUtc!.getTime();
    await new Promise((r) => setTimeout(r, 600));
    const renewed = await receiver.renewMessageLock(message!);
    expect(renewed.getTime()).to.be.greaterThan(original + 400);
    expect(message!.lockedUntilUtc!.getTime()).to.equal(renewed.getTime());
    // Wait past the original expiry: the message is still locked, not redelivered.
    await new Promise((r) => setTimeout(r, Math.max(0, original + 200 - Date.now())));
    const state = await admin(emulator, 'GET', `/queues/${queue}`);
    expect(state.body.counts?.locked).to.equal(1);
    await receiver.completeMessage(message!);
  });

  it("the SDK's auto lock renewal keeps a short lock alive", async () => {
    const queue = await createQueue(emulator, { lockDurationMs: 1500 });
    await client.createSender(queue).sendMessages({ body: 'auto' });
    const receiver = client.createReceiver(queue, { maxAutoLockRenewalDurationInMs: 10_000 });
    const [message] = await receiveN(receiver, 1);
    await new Promise((r) => setTimeout(r, 2000));
    await receiver.completeMessage(message!);
    const res = await admin(emulator, 'GET', `/queues/${queue}`);
    expect(res.body.counts?.active).to.equal(0);
  });

  it('dead-letters with MaxDeliveryCountExceeded after maxDeliveryCount deliveries', async () => {
    const queue = await createQueue(emulator, { maxDeliveryCount: 3 });
    await client
      .createSender(queue)
      .sendMessages({ body: 'poison', messageId: 'poison-1', applicationProperties: { kind: 'bad' } });
    const receiver = client.createReceiver(queue);
    const counts: number[] = [];
    for (let i = 0; i < 3; i++) {
      const [m] = await receiveN(receiver, 1);
      counts.push(m!.deliveryCount!);
      await receiver.abandonMessage(m!);
    }
    expect(counts).to.deep.equal([0, 1, 2]);
    expect(await receiver.receiveMessages(1, { maxWaitTimeInMs: 200 })).to.have.length(0);
    const dlq = client.createReceiver(queue, { subQueueType: 'deadLetter' });
    const [dead] = await receiveN(dlq, 1);
    expect(dead!.deadLetterReason).to.equal('MaxDeliveryCountExceeded');
    expect(dead!.deadLetterErrorDescription).to.be.a('string');
    expect(dead!.messageId).to.equal('poison-1');
    expect(dead!.body).to.equal('poison');
    expect(dead!.applicationProperties?.['kind']).to.equal('bad');
    expect(dead!.deliveryCount).to.equal(3);
    await dlq.completeMessage(dead!);
  });

  it('lock expiries count towards the max delivery count', async () => {
    const queue = await createQueue(emulator, { maxDeliveryCount: 2, lockDurationMs: 200 });
    await client.createSender(queue).sendMessages({ body: 'stuck' });
    const receiver = client.createReceiver(queue, { maxAutoLockRenewalDurationInMs: 0 });
    await receiveN(receiver, 1);
    await receiveN(receiver, 1, 3000);
    const dlq = client.createReceiver(queue, { subQueueType: 'deadLetter' });
    const [dead] = await receiveN(dlq, 1, 3000);
    expect(dead!.deadLetterReason).to.equal('MaxDeliveryCountExceeded');
  });
});
