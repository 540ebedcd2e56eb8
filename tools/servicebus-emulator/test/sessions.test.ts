import { expect } from 'chai';
import { ServiceBusClient } from '@azure/service-bus';
import type { RunningEmulator } from '../src/index.js';
import { bodiesOf, createQueue, createTopic, receiveN, useEmulator } from './helpers.js';

describe('sessions', function () {
  this.timeout(20_000);
  let emulator: RunningEmulator;
  let client: ServiceBusClient;

  useEmulator((started, connected) => {
    emulator = started;
    client = connected;
  });

  it('delivers the messages of a session in order, retries included', async () => {
    const queue = await createQueue(emulator, { requiresSession: true });
    const sender = client.createSender(queue);
    const messages = [];
    for (let i = 0; i < 5; i++) {
      messages.push({ body: `a${i}`, sessionId: 'A' }, { body: `b${i}`, sessionId: 'B' });
    }
    await sender.sendMessages(messages);
    const a = await client.acceptSession(queue, 'A');
    expect(a.sessionId).to.equal('A');
    expect(a.sessionLockedUntilUtc.getTime()).to.be.greaterThan(Date.now());
    expect(bodiesOf(await a.peekMessages(10))).to.deep.equal(['a0', 'a1', 'a2', 'a3', 'a4']);
    const [first] = await receiveN(a, 1);
    expect(first!.body).to.equal('a0');
    expect(first!.sessionId).to.equal('A');
    await a.abandonMessage(first!);
    const rest = await receiveN(a, 5);
    expect(bodiesOf(rest)).to.deep.equal(['a0', 'a1', 'a2', 'a3', 'a4']);
    expect(rest[0]!.deliveryCount).to.equal(1);
    for (const m of rest) await a.completeMessage(m);
    await a.close();
    const b = await client.acceptSession(queue, 'B', { receiveMode: 'receiveAndDelete' });
    expect(bodiesOf(await receiveN(b, 5))).to.deep.equal(['b0', 'b1', 'b2', 'b3', 'b4']);
    await b.close();
  });

  it('locks a session to one receiver at a time', async () => {
    const queue = await createQueue(emulator, { requiresSession: true });
    await client.createSender(queue).sendMessages([
      { body: 1, sessionId: 'S' },
      { body: 2, sessionId: 'S' },
    ]);
    const owner = await client.acceptSession(queue, 'S');
    const error = await client.acceptSession(queue, 'S').then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(error?.code).to.equal('SessionCannotBeLocked');
    const [m1] = await receiveN(owner, 1);
    await owner.completeMessage(m1!);
    await owner.close();
    const next = await client.acceptSession(queue, 'S');
    const [m2] = await receiveN(next, 1);
    expect(m2!.body).to.equal(2);
    await next.completeMessage(m2!);
    await next.close();
  });

  it('acceptNextSession picks distinct unlocked sessions that have messages', async () => {
    const queue = await createQueue(emulator, { requiresSession: true });
    await client.createSender(queue).sendMessages([
      { body: 'x', sessionId: 'one' },
      { body: 'y', sessionId: 'two' },
    ]);
    const r1 = await client.acceptNextSession(queue);
    const r2 = await client.acceptNextSession(queue);
    expect([r1.sessionId, r2.sessionId].sort()).to.deep.equal(['one', 'two']);
    const [m1] = await receiveN(r1, 1);
    expect(m1!.sessionId).to.equal(r1.sessionId);
    await r1.completeMessage(m1!);
    await Promise.all([r1.close(), r2.close()]);
  });

  it('acceptNextSession waits for a session to appear', async () => {
    const queue = await createQueue(emulator, { requiresSession: true });
    const pending = client.acceptNextSession(queue);
    await new Promise((r) => setTimeout(r, 200));
    await client.createSender(queue).sendMessages({ body: 'late', sessionId: 'late-session' });
    const receiver = await pending;
    expect(receiver.sessionId).to.equal('late-session');
    const [m] = await receiveN(receiver, 1);
    expect(m!.body).to.equal('late');
    await receiver.completeMessage(m!);
    await receiver.close();
  });

  it('acceptNextSession fails with ServiceTimeout when no session shows up within the timeout', async () => {
    const queue = await createQueue(emulator, { requiresSession: true });
    const impatient = newClientWithTimeout(emulator, 600);
    const started = Date.now();
    const error = await impatient.acceptNextSession(queue).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(error?.code).to.equal('ServiceTimeout');
    expect(Date.now() - started).to.be.lessThan(5000);
    await impatient.close();
  });

  it('keeps session state and renews the session lock', async () => {
    const queue = await createQueue(emulator, { requiresSession: true, lockDurationMs: 2000 });
    await client.createSender(queue).sendMessages({ body: 1, sessionId: 'stateful' });
    const receiver = await client.acceptSession(queue, 'stateful', { maxAutoLockRenewalDurationInMs: 0 });
    expect(await receiver.getSessionState()).to.equal(null);
    await receiver.setSessionState({ step: 3 });
    expect(await receiver.getSessionState()).to.deep.equal({ step: 3 });
    const before = receiver.sessionLockedUntilUtc.getTime();
    await new Promise((r) => setTimeout(r, 50));
    const renewed = await receiver.renewSessionLock();
    expect(renewed.getTime()).to.be.greaterThan(before);
    await receiver.close();
    const again = await client.acceptSession(queue, 'stateful');
    expect(await again.getSessionState()).to.deep.equal({ step: 3 });
    await again.close();
  });

  it('releases a session whose lock expired: another receiver gets it, the old one gets SessionLockLost', async () => {
    const queue = await createQueue(emulator, { requiresSession: true, lockDurationMs: 500 });
    await client.createSender(queue).sendMessages({ body: 'held', sessionId: 'exp' });
    const first = await client.acceptSession(queue, 'exp', { maxAutoLockRenewalDurationInMs: 0 });
    const [m] = await receiveN(first, 1);
    await new Promise((r) => setTimeout(r, 700));
    const error = await first.completeMessage(m!).then(
      () => undefined,
      (e: unknown) => e as { code?: string },
    );
    expect(error?.code).to.equal('SessionLockLost');
    const second = await client.acceptSession(queue, 'exp');
    const [again] = await receiveN(second, 1);
    expect(again!.body).to.equal('held');
    expect(again!.deliveryCount).to.equal(1);
    await second.completeMessage(again!);
    await second.close();
    await first.close();
  });

  it('refuses messages without a session id and non-session receivers on a session queue', async () => {
    const queue = await createQueue(emulator, { requiresSession: true });
    const sendError = await client
      .createSender(queue)
      .sendMessages({ body: 'no session' })
      .then(
        () => undefined,
        (e: unknown) => e as { code?: string; message?: string },
      );
    expect(sendError?.message).to.match(/SessionId was not set/);
    const receiveError = await client
      .createReceiver(queue)
      .receiveMessages(1, { maxWaitTimeInMs: 500 })
      .then(
        () => undefined,
        (e: unknown) => e as { message?: string },
      );
    expect(receiveError?.message).to.match(/requires sessions/);
  });

  it('session subscriptions keep per-session order', async () => {
    const topic = await createTopic(emulator, { ordered: { requiresSession: true } });
    await client.createSender(topic).sendMessages([1, 2, 3].map((n) => ({ body: n, sessionId: 'k' })));
    const receiver = await client.acceptSession(topic, 'ordered', 'k');
    const received = await receiveN(receiver, 3);
    expect(bodiesOf(received)).to.deep.equal([1, 2, 3]);
    for (const m of received) await receiver.completeMessage(m);
    await receiver.close();
  });
});

function newClientWithTimeout(emulator: RunningEmulator, timeoutInMs: number): ServiceBusClient {
  return new ServiceBusClient(emulator.connectionString, { retryOptions: { maxRetries: 0, timeoutInMs } });
}
