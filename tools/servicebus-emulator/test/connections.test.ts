import { expect } from 'chai';
import type { ServiceBusClient } from '@azure/service-bus';
import type { RunningEmulator } from '../src/index.js';
import {
  admin,
  countsOf,
  createQueue,
  newClient,
  receiveN,
  startTestEmulator,
  useEmulator,
  waitFor,
} from './helpers.js';

describe('dropped connections (POST /connections/drop)', function () {
  this.timeout(30_000);
  let emulator: RunningEmulator;
  let client: ServiceBusClient;

  useEmulator((started, connected) => {
    emulator = started;
    client = connected;
  });

  it('cuts the connection; the SDK reconnects to send and receive; message locks outlive it until they expire', async () => {
    const queue = await createQueue(emulator, { lockDurationMs: 1500 });
    const sender = client.createSender(queue);
    await sender.sendMessages([
      { body: 'settled-later', messageId: 'a' },
      { body: 'left-locked', messageId: 'b' },
    ]);
    const receiver = client.createReceiver(queue, { maxAutoLockRenewalDurationInMs: 0 });
    const before = await receiveN(receiver, 2);
    expect(before.map((m) => m.messageId)).to.deep.equal(['a', 'b']);

    const dropped = await admin(emulator, 'POST', '/connections/drop');
    expect(dropped.status).to.equal(200);
    expect(dropped.body).to.deep.equal({ dropped: 1 });
    // The server stays up and keeps both locks.
    expect(await countsOf(emulator, `/queues/${queue}`)).to.include({ active: 2, locked: 2 });

    // The same sender and receiver work again on a new connection.
    await sender.sendMessages({ body: 'after', messageId: 'c' });
    const [after] = await receiveN(receiver, 1);
    expect(after?.messageId, 'a locked message is not handed out again before its lock expires').to.equal(
      'c',
    );
    expect(after?.deliveryCount).to.equal(0);
    await receiver.completeMessage(after!);

    // The lock of a message received on the dropped connection is still valid: settled by lock
    // token over $management, it completes. (The SDK takes that path only when no open receiver
    // has the message's link name; the reconnected receiver reuses it, so close it first.)
    await receiver.close();
    const fresh = client.createReceiver(queue, { maxAutoLockRenewalDurationInMs: 0 });
    await fresh.completeMessage(before[0]!);
    // The other one comes back once its lock expires, with the delivery counted.
    const [again] = await receiveN(fresh, 1, 5_000);
    expect(again?.messageId).to.equal('b');
    expect(again?.deliveryCount).to.equal(1);
    await fresh.completeMessage(again!);
    expect(await countsOf(emulator, `/queues/${queue}`)).to.include({ active: 0, locked: 0 });
  });

  it('releases session locks at once: the session can be accepted again, and the stale receiver reports SessionLockLost', async () => {
    const queue = await createQueue(emulator, { requiresSession: true, lockDurationMs: 20_000 });
    await client.createSender(queue).sendMessages({ body: 'in-session', sessionId: 's1', messageId: 'm1' });
    const session = await client.acceptSession(queue, 's1', { maxAutoLockRenewalDurationInMs: 0 });
    const [held] = await receiveN(session, 1);
    expect(held?.messageId).to.equal('m1');

    const other = newClient(emulator);
    try {
      // Connect the second client before the drop; both connections are cut.
      await other.createSender(queue).sendMessages({ body: 'second', sessionId: 's2' });
      const dropped = await admin(emulator, 'POST', '/connections/drop');
      expect(dropped.body).to.deep.equal({ dropped: 2 });

      // Well before the 20 s session lock would expire, s1 is free again and m1 is back.
      const reopened = await waitFor(
        () => other.acceptSession(queue, 's1').catch(() => undefined),
        10_000,
        'session s1 to be accepted again',
      );
      const [back] = await receiveN(reopened, 1);
      expect(back?.messageId).to.equal('m1');
      expect(back?.deliveryCount).to.equal(1);
      const stale = await session.completeMessage(held!).then(
        () => undefined,
        (error: unknown) => error as { code?: string },
      );
      expect(stale?.code).to.equal('SessionLockLost');
      await reopened.completeMessage(back!);
      await reopened.close();
    } finally {
      await other.close();
    }
  });

  it('POST /connections/drop with no client connected drops nothing', async () => {
    const fresh = await startTestEmulator();
    try {
      const res = await admin(fresh, 'POST', '/connections/drop');
      expect(res.status).to.equal(200);
      expect(res.body).to.deep.equal({ dropped: 0 });
      expect((await admin(fresh, 'GET', '/connections/drop')).status).to.equal(404);
    } finally {
      await fresh.stop();
    }
  });
});
