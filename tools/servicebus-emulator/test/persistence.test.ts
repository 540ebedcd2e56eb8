import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EntitySnapshot, RunningEmulator } from '../src/index.js';
import { admin, bodiesOf, newClient, receiveN, startTestEmulator, waitFor } from './helpers.js';

describe('state snapshot (--state)', function () {
  this.timeout(20_000);
  let dir: string;
  const running: RunningEmulator[] = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sb-emulator-'));
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((e) => e.stop()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function start(statePath: string, snapshotIntervalMs = 1000): Promise<RunningEmulator> {
    const emulator = await startTestEmulator({ statePath, snapshotIntervalMs });
    running.push(emulator);
    return emulator;
  }

  it('a graceful stop and start keeps entities and every kind of message (locks released, delivery counts kept)', async () => {
    const statePath = join(dir, 'state.json');
    const first = await start(statePath);
    await admin(first, 'PUT', '/queues/orders', { maxDeliveryCount: 5, lockDurationMs: 60_000 });
    await admin(first, 'PUT', '/queues/carts', { requiresSession: true });
    await admin(first, 'PUT', '/topics/events');
    await admin(first, 'PUT', '/topics/events/subscriptions/audit');
    const client = newClient(first);
    const sender = client.createSender('orders');
    await sender.sendMessages([
      { body: 'locked', messageId: 'm-locked', applicationProperties: { k: 'v' } },
      { body: 'deferred' },
      { body: 'dead' },
      { body: 'plain' },
    ]);
    const [scheduledSeq] = await sender.scheduleMessages(
      [{ body: 'scheduled' }],
      new Date(Date.now() + 60_000),
    );
    await client.createSender('events').sendMessages({ body: 'fan-out' });
    await client.createSender('carts').sendMessages({ body: 'cart', sessionId: 'c1' });
    const session = await client.acceptSession('carts', 'c1');
    await session.setSessionState({ items: 2 });
    await session.close();
    const receiver = client.createReceiver('orders', { maxAutoLockRenewalDurationInMs: 0 });
    const [locked, deferred, dead] = await receiveN(receiver, 3);
    await receiver.deferMessage(deferred!);
    await receiver.deadLetterMessage(dead!, { deadLetterReason: 'R', deadLetterErrorDescription: 'D' });
    expect(locked!.body).to.equal('locked');
    await client.close();
    await first.stop();

    const second = await start(statePath);
    const orders = await admin(second, 'GET', '/queues/orders');
    expect(orders.body.options?.maxDeliveryCount).to.equal(5);
    expect(orders.body.counts).to.deep.equal({
      active: 2,
      scheduled: 1,
      deferred: 1,
      locked: 0,
      deadLetter: 1,
    });
    const client2 = newClient(second);
    const r2 = client2.createReceiver('orders');
    const again = await receiveN(r2, 2);
    expect(bodiesOf(again)).to.deep.equal(['locked', 'plain']);
    expect(again[0]!.deliveryCount).to.equal(1);
    expect(again[0]!.messageId).to.equal('m-locked');
    expect(again[0]!.applicationProperties).to.deep.equal({ k: 'v' });
    for (const m of again) await r2.completeMessage(m);
    const [def] = await r2.receiveDeferredMessages([deferred!.sequenceNumber!]);
    expect(def!.body).to.equal('deferred');
    await r2.completeMessage(def!);
    await client2.createSender('orders').cancelScheduledMessages(scheduledSeq!);
    const dlq = client2.createReceiver('orders', { subQueueType: 'deadLetter' });
    const [d] = await receiveN(dlq, 1);
    expect(d!.deadLetterReason).to.equal('R');
    await dlq.completeMessage(d!);
    const audit = client2.createReceiver('events', 'audit', { receiveMode: 'receiveAndDelete' });
    expect(bodiesOf(await receiveN(audit, 1))).to.deep.equal(['fan-out']);
    const cart = await client2.acceptSession('carts', 'c1');
    expect(await cart.getSessionState()).to.deep.equal({ items: 2 });
    await cart.close();
    // Sequence numbers continue after a restart.
    await client2.createSender('orders').sendMessages({ body: 'new' });
    const [fresh] = await receiveN(client2.createReceiver('orders', { receiveMode: 'receiveAndDelete' }), 1);
    expect(fresh!.sequenceNumber!.toNumber()).to.be.greaterThan(scheduledSeq!.toNumber());
    await client2.close();
  });

  it('writes the snapshot periodically while running, so a killed emulator loses at most one interval', async () => {
    const statePath = join(dir, 'periodic.json');
    const emulator = await start(statePath, 100);
    await admin(emulator, 'PUT', '/queues/work');
    const client = newClient(emulator);
    await client.createSender('work').sendMessages({ body: 'survives a kill' });
    await client.close();
    await waitFor(
      () => {
        if (!existsSync(statePath)) return undefined;
        const snapshot = JSON.parse(readFileSync(statePath, 'utf8')) as EntitySnapshot;
        return snapshot.queues[0]?.messages.length === 1 ? true : undefined;
      },
      5000,
      'periodic snapshot',
    );
    // Start a second emulator from the file while the first still runs (as after a SIGKILL).
    const copy = await start(join(dir, 'periodic.json'), 0);
    const res = await admin(copy, 'GET', '/queues/work');
    expect(res.body.counts?.active).to.equal(1);
  });
});
