import { expect } from 'chai';
import type { RunningEmulator } from '../src/index.js';
import { admin, newClient, startTestEmulator, uniqueName, waitFor } from './helpers.js';

describe('admin HTTP API', function () {
  this.timeout(20_000);
  let emulator: RunningEmulator;

  before(async () => {
    emulator = await startTestEmulator({
      config: {
        entities: {
          queues: [{ name: 'configured', maxDeliveryCount: 4 }],
          topics: [{ name: 'events', subscriptions: [{ name: 'audit' }] }],
        },
      },
    });
  });
  after(() => emulator.stop());

  it('GET /health reports ok and the AMQP port', async () => {
    const res = await admin(emulator, 'GET', '/health');
    expect(res.status).to.equal(200);
    expect(res.body.status).to.equal('ok');
    expect(res.body.amqpPort).to.equal(emulator.amqpPort);
  });

  it('creates entities from the config file', async () => {
    const queue = await admin(emulator, 'GET', '/queues/configured');
    expect(queue.status).to.equal(200);
    expect(queue.body.options).to.include({
      maxDeliveryCount: 4,
      lockDurationMs: 30000,
      requiresSession: false,
    });
    const sub = await admin(emulator, 'GET', '/topics/events/subscriptions/audit');
    expect(sub.status).to.equal(200);
    const topic = await admin(emulator, 'GET', '/topics/events');
    expect(topic.body.subscriptions).to.deep.equal(['audit']);
  });

  it('PUT creates a queue (201), is idempotent (200), GET shows options and counts, DELETE removes it', async () => {
    const name = uniqueName('adm');
    const created = await admin(emulator, 'PUT', `/queues/${name}`, {
      lockDurationMs: 1234,
      maxDeliveryCount: 2,
    });
    expect(created.status).to.equal(201);
    expect(created.body.options).to.include({ lockDurationMs: 1234, maxDeliveryCount: 2 });
    const again = await admin(emulator, 'PUT', `/queues/${name}`, {
      lockDurationMs: 1234,
      maxDeliveryCount: 2,
    });
    expect(again.status).to.equal(200);
    const client = newClient(emulator);
    await client
      .createSender(name)
      .sendMessages([{ body: 1 }, { body: 2, scheduledEnqueueTimeUtc: new Date(Date.now() + 60_000) }]);
    const got = await admin(emulator, 'GET', `/queues/${name}`);
    expect(got.status).to.equal(200);
    expect(got.body.counts).to.deep.equal({ active: 1, scheduled: 1, deferred: 0, locked: 0, deadLetter: 0 });
    expect((await admin(emulator, 'DELETE', `/queues/${name}`)).status).to.equal(204);
    expect((await admin(emulator, 'GET', `/queues/${name}`)).status).to.equal(404);
    expect((await admin(emulator, 'DELETE', `/queues/${name}`)).status).to.equal(404);
    const error = await client
      .createSender(name)
      .sendMessages({ body: 3 })
      .then(
        () => undefined,
        (e: unknown) => e as { code?: string },
      );
    expect(error?.code).to.equal('MessagingEntityNotFound');
    await client.close();
  });

  it('deleting a queue detaches its receivers', async () => {
    const name = uniqueName('del');
    await admin(emulator, 'PUT', `/queues/${name}`);
    const client = newClient(emulator);
    const errors: unknown[] = [];
    const subscription = client.createReceiver(name).subscribe({
      processMessage: () => Promise.resolve(),
      processError: (args) => {
        errors.push(args.error);
        return Promise.resolve();
      },
    });
    await new Promise((r) => setTimeout(r, 300));
    await admin(emulator, 'DELETE', `/queues/${name}`);
    await waitFor(() => (errors.length > 0 ? true : undefined), 5000, 'receiver error');
    expect((errors[0] as { code?: string }).code).to.equal('MessagingEntityNotFound');
    await subscription.close();
    await client.close();
  });

  it('manages topics and subscriptions', async () => {
    const topic = uniqueName('top');
    expect((await admin(emulator, 'PUT', `/topics/${topic}`)).status).to.equal(201);
    expect((await admin(emulator, 'PUT', `/topics/${topic}`)).status).to.equal(200);
    const sub = await admin(emulator, 'PUT', `/topics/${topic}/subscriptions/s1`, { requiresSession: true });
    expect(sub.status).to.equal(201);
    expect(sub.body.options?.requiresSession).to.equal(true);
    expect((await admin(emulator, 'GET', `/topics/${topic}`)).body.subscriptions).to.deep.equal(['s1']);
    expect((await admin(emulator, 'GET', `/topics/${topic}/subscriptions/nope`)).status).to.equal(404);
    expect((await admin(emulator, 'PUT', `/topics/missing-${topic}/subscriptions/s1`)).status).to.equal(404);
    expect((await admin(emulator, 'DELETE', `/topics/${topic}/subscriptions/s1`)).status).to.equal(204);
    expect((await admin(emulator, 'DELETE', `/topics/${topic}`)).status).to.equal(204);
    expect((await admin(emulator, 'GET', `/topics/${topic}`)).status).to.equal(404);
  });

  it('rejects invalid names, bad options, and name clashes', async () => {
    expect((await admin(emulator, 'PUT', '/queues/bad$name')).status).to.equal(400);
    const bad = await admin(emulator, 'PUT', `/queues/${uniqueName('x')}`, {
      lockDurationMs: -1,
      requiresSession: 'yes',
    });
    expect(bad.status).to.equal(400);
    expect(bad.body.problems).to.have.length(2);
    expect((await admin(emulator, 'PUT', '/topics/configured')).status).to.equal(409);
    expect((await admin(emulator, 'GET', '/nothing')).status).to.equal(404);
  });
});
