import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import {
  computeHealth,
  createEventBus,
  defineEvent,
  EventHandler,
  healthRequestHandler,
  InMemoryBroker,
  InMemoryTransport,
  SubscriptionStats,
  type EventBus,
  type HealthChangedEvent,
} from '../src/index.js';
import { waitFor } from '../src/testing/index.js';

let sequence = 0;
const unique = (name: string): string => `health.${name}.${String(process.pid)}.${String(++sequence)}`;

describe('bus.health()', () => {
  const buses: EventBus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.stop({ drainTimeoutMs: 500 })));
  });

  it('reports each subscription (state, last delivery, in flight, consecutive failures) and the verdicts; changes are events', async () => {
    const Job = defineEvent<{ fail: boolean }>(unique('job'));
    let release: (() => void) | undefined;
    class Handler {
      @EventHandler(Job, {
        group: 'workers',
        retry: { maxAttempts: 1, initialDelayMs: 1, multiplier: 1, maxDelayMs: 1, jitter: 0 },
      })
      async on(payload: { fail: boolean }): Promise<void> {
        if (payload.fail) throw new Error('boom');
        await new Promise<void>((resolve) => (release = resolve));
      }
    }
    const broker = new InMemoryBroker();
    const transport = new InMemoryTransport({ broker });
    const bus = createEventBus({ transport, handlers: [Handler] });
    buses.push(bus);
    const changes: HealthChangedEvent[] = [];
    bus.on('health.changed', (event) => {
      changes.push(event);
    });
    expect(bus.health()).to.deep.include({ ready: false, live: true, status: 'idle' });
    await bus.start();
    let health = bus.health();
    expect(health.ready).to.equal(true);
    expect(health.live).to.equal(true);
    expect(health.reasons).to.deep.equal([]);
    expect(health.transport).to.deep.include({ name: 'in-memory', status: 'ready' });
    expect(health.subscriptions).to.have.length(1);
    expect(health.subscriptions[0]).to.deep.include({
      destination: Job.name,
      group: 'workers',
      state: 'consuming',
      connected: true,
      inFlight: 0,
      consecutiveFailures: 0,
      received: 0,
    });
    expect(health.subscriptions[0]?.lastDeliveryAt).to.equal(undefined);

    await bus.publish(Job, { fail: true });
    await bus.publish(Job, { fail: true });
    await waitFor(() => bus.health().subscriptions[0]?.consecutiveFailures === 2);
    const before = Date.now();
    await bus.publish(Job, { fail: false });
    await waitFor(() => bus.health().subscriptions[0]?.inFlight === 1);
    health = bus.health();
    expect(health.subscriptions[0]?.lastDeliveryAt?.getTime()).to.be.at.least(before - 1);
    expect(health.subscriptions[0]?.received).to.equal(3);
    release?.();
    await waitFor(() => bus.health().subscriptions[0]?.consecutiveFailures === 0);
    expect(bus.health().subscriptions[0]?.inFlight).to.equal(0);

    broker.dropConnections();
    await waitFor(() => changes.some((c) => !c.ready && c.reasons.some((r) => r.includes('reconnecting'))));
    await waitFor(() => bus.health().ready);
    expect(changes.map((c) => c.ready)).to.deep.equal([false, true, false, true]);
    await bus.stop();
    health = bus.health();
    expect(health.ready).to.equal(false);
    expect(health.subscriptions[0]?.state).to.equal('closed');
    expect(changes.map((c) => c.ready)).to.deep.equal([false, true, false, true, false]);
  });

  it('verdict rules: paused while the transport reconnects, stalled handlers and long reconnects are not live, failure streaks can gate readiness', () => {
    const spec = { destination: 'd', group: 'g', concurrency: 2, ordered: false, handlerTimeoutMs: 1000 };
    const stats = new SubscriptionStats();
    stats.state = 'consuming';
    const base = { status: 'started' as const, startFailed: false, options: {}, now: 1_000_000 };
    const ok = computeHealth({
      ...base,
      transport: { name: 't', status: 'ready', since: 0 },
      subscriptions: [{ spec, stats }],
    });
    expect([ok.ready, ok.live]).to.deep.equal([true, true]);
    const reconnecting = computeHealth({
      ...base,
      transport: { name: 't', status: 'reconnecting', since: 999_000 },
      subscriptions: [{ spec, stats }],
    });
    expect([reconnecting.ready, reconnecting.live, reconnecting.subscriptions[0]?.state]).to.deep.equal([
      false,
      true,
      'paused',
    ]);
    const tooLong = computeHealth({
      ...base,
      transport: { name: 't', status: 'reconnecting', since: 0 },
      subscriptions: [{ spec, stats }],
    });
    expect(tooLong.live).to.equal(false);
    stats.onReceived(980_000);
    const stalled = computeHealth({
      ...base,
      transport: { name: 't', status: 'ready', since: 0 },
      subscriptions: [{ spec, stats }],
    });
    expect([stalled.live, stalled.subscriptions[0]?.stalled]).to.deep.equal([false, true]);
    expect(stalled.reasons.join()).to.contain('no delivery for more than 12000 ms');
    stats.onSettled('retried');
    stats.onReceived(999_500);
    stats.onSettled('dead-lettered');
    const streak = computeHealth({
      ...base,
      options: { maxConsecutiveFailures: 2 },
      transport: { name: 't', status: 'ready', since: 0 },
      subscriptions: [{ spec, stats }],
    });
    expect([streak.ready, streak.live]).to.deep.equal([false, true]);
    const failedStart = computeHealth({
      ...base,
      status: 'stopped',
      startFailed: true,
      transport: undefined,
      subscriptions: [],
    });
    expect([failedStart.ready, failedStart.live]).to.deep.equal([false, false]);
  });
});

describe('healthRequestHandler', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.close();
    if (server !== undefined) await once(server, 'close');
    server = undefined;
  });

  const get = async (path: string, method = 'GET'): Promise<{ status: number; body: string }> => {
    const { port } = server?.address() as AddressInfo;
    return new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
        let body = '';
        res.on('data', (chunk: Buffer) => (body += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', reject);
      req.end();
    });
  };

  it('answers /health/live and /health/ready with 200 or 503 and the JSON snapshot; leaves other paths alone', async () => {
    const bus = createEventBus({ transport: new InMemoryTransport({ broker: new InMemoryBroker() }) });
    const probes = healthRequestHandler(bus);
    server = createServer((req, res) => {
      if (!probes(req, res)) res.writeHead(404).end('mine');
    }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    expect((await get('/health/live')).status).to.equal(200);
    const notReady = await get('/health/ready?verbose=1');
    expect(notReady.status).to.equal(503);
    expect(JSON.parse(notReady.body)).to.deep.include({ ready: false, status: 'idle' });
    await bus.start();
    const ready = await get('/health/ready');
    expect(ready.status).to.equal(200);
    expect(JSON.parse(ready.body)).to.deep.include({ ready: true, live: true });
    expect(await get('/other')).to.deep.equal({ status: 404, body: 'mine' });
    expect((await get('/health/ready', 'POST')).status).to.equal(405);
    await bus.stop();
    expect((await get('/health/ready')).status).to.equal(503);
    expect((await get('/health/live')).status).to.equal(200);
  });
});
