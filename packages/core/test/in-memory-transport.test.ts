import { expect } from 'chai';
import {
  ErrorCodes,
  InMemoryBroker,
  InMemoryTransport,
  inMemoryTransport,
  isOmnibusError,
  parseOptions,
} from '../src/index.js';
import type { Delivery, MessageEnvelope, Subscription, SubscriptionSpec } from '../src/index.js';
import { waitFor } from '../src/testing/wait-for.js';

let counter = 0;
function envelope(overrides: Partial<MessageEnvelope> = {}): MessageEnvelope {
  counter += 1;
  return {
    id: `m-${String(counter)}`,
    type: 'test.event.v1',
    payload: new TextEncoder().encode(`payload-${String(counter)}`),
    contentType: 'application/json',
    headers: {},
    occurredAt: new Date(),
    ...overrides,
  };
}

function spec(
  destination: string,
  group: string,
  overrides: Partial<SubscriptionSpec> = {},
): SubscriptionSpec {
  return { destination, group, concurrency: 1, ordered: false, handlerTimeoutMs: 1000, ...overrides };
}

/** Resolves when `condition` holds, polling on the event loop (no fixed sleep as assertion). */
async function until(condition: () => boolean, what: string, timeoutMs = 2000): Promise<void> {
  await waitFor(condition, { timeoutMs, intervalMs: 2, message: `timed out waiting for ${what}` });
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('InMemoryTransport', () => {
  let broker: InMemoryBroker;
  const open: InMemoryTransport[] = [];

  async function transport(
    options: ConstructorParameters<typeof InMemoryTransport>[0] = {},
  ): Promise<InMemoryTransport> {
    const created = new InMemoryTransport({ broker, ...options });
    open.push(created);
    await created.connect();
    return created;
  }

  beforeEach(() => {
    broker = new InMemoryBroker();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close(100)));
  });

  it('provider validates options and creates a transport with declared capabilities', () => {
    expect(inMemoryTransport.name).to.equal('in-memory');
    expect(inMemoryTransport.packageName).to.equal('@omnibus/core');
    const parsed = parseOptions(inMemoryTransport.optionSchema, {
      maxPayloadBytes: '2048',
      deduplicationWindowMs: 100,
    });
    expect(parsed.ok).to.equal(true);
    if (!parsed.ok) return;
    const created = inMemoryTransport.create(parsed.options);
    expect(created.capabilities.maxPayloadBytes).to.equal(2048);
    expect(created.capabilities.publishDeduplication).to.equal(true);
    expect(created.capabilities.ordering).to.equal('per-key');
    const bad = parseOptions(inMemoryTransport.optionSchema, { maxPayloadBytes: 0, nope: 1 });
    expect(bad.ok).to.equal(false);
  });

  it('delivers a published message once with its envelope intact, then ack removes it', async () => {
    const t = await transport();
    await t.provision({ destinations: [{ name: 'd', groups: [{ name: 'g', ordered: false }] }] });
    const received: Delivery[] = [];
    await t.subscribe(spec('d', 'g'), async (delivery) => {
      received.push(delivery);
      await delivery.ack();
    });
    const sent = envelope({
      headers: { 'x-a': 'é😀', 'x-empty': '' },
      correlationId: 'c',
      causationId: 'k',
      partitionKey: 'p',
    });
    await t.publish('d', [{ envelope: sent }]);
    await until(() => received.length === 1 && broker.stats('d', 'g').inFlight === 0, 'ack');
    const got = received[0] as Delivery;
    expect(got.envelope.id).to.equal(sent.id);
    expect(got.envelope.headers).to.deep.equal(sent.headers);
    expect(got.envelope.correlationId).to.equal('c');
    expect(got.envelope.causationId).to.equal('k');
    expect(got.envelope.partitionKey).to.equal('p');
    expect(Buffer.from(got.envelope.payload).equals(Buffer.from(sent.payload))).to.equal(true);
    expect(got.deliveryAttempt).to.equal(1);
    expect(broker.stats('d', 'g')).to.include({ ready: 0, inFlight: 0 });
  });

  it('retry redelivers with deliveryAttempt + 1; settling twice is ignored', async () => {
    const t = await transport();
    await t.provision({ destinations: [{ name: 'd', groups: [{ name: 'g', ordered: false }] }] });
    const attempts: number[] = [];
    await t.subscribe(spec('d', 'g'), async (delivery) => {
      attempts.push(delivery.deliveryAttempt);
      if (delivery.deliveryAttempt < 3) {
        await delivery.retry(1);
        await delivery.ack();
      } else {
        await delivery.ack();
      }
    });
    await t.publish('d', [{ envelope: envelope() }]);
    await until(() => attempts.length === 3, 'three attempts');
    expect(attempts).to.deep.equal([1, 2, 3]);
  });

  it('dead-letters with reason, attempts and origin, readable out of band', async () => {
    const t = await transport();
    await t.provision({ destinations: [{ name: 'd', groups: [{ name: 'g', ordered: false }] }] });
    await t.subscribe(spec('d', 'g'), (delivery) =>
      delivery.deadLetter({ code: 'HANDLER_FAILED', message: 'boom', attempts: 1 }),
    );
    const sent = envelope({ headers: { 'x-h': 'v' } });
    await t.publish('d', [{ envelope: sent }]);
    const [dead] = await broker.waitForDeadLetters('d', 'g', 1, 2000);
    expect(dead?.envelope.id).to.equal(sent.id);
    expect(dead?.envelope.headers).to.deep.equal({ 'x-h': 'v' });
    expect(dead?.info).to.include({
      code: 'HANDLER_FAILED',
      message: 'boom',
      attempts: 1,
      destination: 'd',
      group: 'g',
    });
  });

  it('competing consumers share a group; groups fan out', async () => {
    const a = await transport();
    const b = await transport();
    await a.provision({
      destinations: [
        {
          name: 'd',
          groups: [
            { name: 'g1', ordered: false },
            { name: 'g2', ordered: false },
          ],
        },
      ],
    });
    const seen = { a: [] as string[], b: [] as string[], g2: [] as string[] };
    await a.subscribe(spec('d', 'g1'), async (d) => {
      seen.a.push(d.envelope.id);
      await d.ack();
    });
    await b.subscribe(spec('d', 'g1'), async (d) => {
      seen.b.push(d.envelope.id);
      await d.ack();
    });
    await b.subscribe(spec('d', 'g2', { concurrency: 4 }), async (d) => {
      seen.g2.push(d.envelope.id);
      await d.ack();
    });
    const sent = Array.from({ length: 10 }, () => envelope());
    await a.publish(
      'd',
      sent.map((e) => ({ envelope: e })),
    );
    await until(() => seen.a.length + seen.b.length === 10 && seen.g2.length === 10, 'all deliveries');
    expect([...seen.a, ...seen.b].sort()).to.deep.equal(sent.map((e) => e.id).sort());
    expect(seen.a.length).to.be.greaterThan(0);
    expect(seen.b.length).to.be.greaterThan(0);
  });

  it('keeps per-key order under retries (head-of-line per key)', async () => {
    const t = await transport();
    await t.provision({ destinations: [{ name: 'd', groups: [{ name: 'g', ordered: true }] }] });
    const order: string[] = [];
    await t.subscribe(spec('d', 'g', { concurrency: 4, ordered: true }), async (d) => {
      order.push(`${d.envelope.id}#${String(d.deliveryAttempt)}`);
      if (d.envelope.id === 'k-1' && d.deliveryAttempt < 3) await d.retry(5);
      else await d.ack();
    });
    const sent = ['k-0', 'k-1', 'k-2', 'k-3'].map((id) => envelope({ id, partitionKey: 'k' }));
    await t.publish(
      'd',
      sent.map((e) => ({ envelope: e })),
    );
    await until(() => order.length === 6, 'six deliveries');
    expect(order).to.deep.equal(['k-0#1', 'k-1#1', 'k-1#2', 'k-1#3', 'k-2#1', 'k-3#1']);
  });

  it('releases unsettled deliveries on subscription close, as the next attempt', async () => {
    const t = await transport();
    await t.provision({ destinations: [{ name: 'd', groups: [{ name: 'g', ordered: false }] }] });
    let first: Delivery | undefined;
    const sub = await t.subscribe(spec('d', 'g'), (d) => {
      first = d;
      return new Promise(() => undefined);
    });
    await t.publish('d', [{ envelope: envelope() }]);
    await until(() => first !== undefined, 'first delivery');
    await sub.close(10);
    const error = await rejection((first as Delivery).ack());
    expect(isOmnibusError(error) && error.code).to.equal(ErrorCodes.SETTLEMENT_FAILED);
    const attempts: number[] = [];
    await t.subscribe(spec('d', 'g'), async (d) => {
      attempts.push(d.deliveryAttempt);
      await d.ack();
    });
    await until(() => attempts.length === 1, 'redelivery');
    expect(attempts).to.deep.equal([2]);
  });

  it('rejects a publish to a destination without groups (NO_SUBSCRIBERS, retriable, nothing stored) until a group exists', async () => {
    const t = await transport();
    await t.provision({ destinations: [{ name: 'd', groups: [] }] });
    const refused = await rejection(t.publish('d', [{ envelope: envelope() }, { envelope: envelope() }]));
    expect(isOmnibusError(refused) && refused.code).to.equal(ErrorCodes.NO_SUBSCRIBERS);
    expect(isOmnibusError(refused) && refused.retriable).to.equal(true);
    expect(String((refused as Error).message)).to.contain('Start the consuming service');
    await t.provision({ destinations: [{ name: 'd', groups: [{ name: 'g', ordered: false }] }] });
    await t.publish('d', [{ envelope: envelope() }]);
    expect(broker.stats('d', 'g').ready).to.equal(1);
  });

  it('rejects oversize payloads, out-of-range delays, unknown destinations and publish after close', async () => {
    const t = await transport({ maxPayloadBytes: 4, maxDelayMs: 1000 });
    await t.provision({ destinations: [{ name: 'd', groups: [{ name: 'g', ordered: false }] }] });
    const big = await rejection(t.publish('d', [{ envelope: envelope({ payload: new Uint8Array(5) }) }]));
    expect(isOmnibusError(big) && big.code).to.equal(ErrorCodes.PAYLOAD_TOO_LARGE);
    await t.publish('d', [{ envelope: envelope({ payload: new Uint8Array(4) }) }]);
    const late = await rejection(
      t.publish('d', [{ envelope: envelope({ payload: new Uint8Array(1) }), delayMs: 1001 }]),
    );
    expect(isOmnibusError(late) && late.code).to.equal(ErrorCodes.DELAY_OUT_OF_RANGE);
    const unknown = await rejection(
      t.publish('nope', [{ envelope: envelope({ payload: new Uint8Array(1) }) }]),
    );
    expect(isOmnibusError(unknown) && unknown.code).to.equal(ErrorCodes.PUBLISH_FAILED);
    await t.close();
    const closed = await rejection(t.publish('d', [{ envelope: envelope({ payload: new Uint8Array(1) }) }]));
    expect(isOmnibusError(closed) && closed.code).to.equal(ErrorCodes.PUBLISH_FAILED);
  });

  it('drops duplicate ids within the deduplication window', async () => {
    const t = await transport({ deduplicationWindowMs: 60_000 });
    await t.provision({ destinations: [{ name: 'd', groups: [{ name: 'g', ordered: false }] }] });
    const sent = envelope();
    await t.publish('d', [{ envelope: sent }]);
    await t.publish('d', [{ envelope: sent }]);
    expect(broker.stats('d', 'g').ready).to.equal(1);
  });

  it('resumes consuming after dropConnections and simulateRestart without losing messages', async () => {
    const t = await transport();
    await t.provision({ destinations: [{ name: 'd', groups: [{ name: 'g', ordered: false }] }] });
    const statuses: string[] = [];
    t.onStatusChange((status) => statuses.push(status));
    const acked = new Set<string>();
    await t.subscribe(spec('d', 'g', { concurrency: 2 }), async (d) => {
      await d.ack();
      acked.add(d.envelope.id);
    });
    const before = Array.from({ length: 5 }, () => envelope());
    await t.publish(
      'd',
      before.map((e) => ({ envelope: e })),
    );
    broker.dropConnections();
    const during = Array.from({ length: 5 }, () => envelope());
    await t.publish(
      'd',
      during.map((e) => ({ envelope: e })),
    );
    await broker.simulateRestart(5);
    const after = Array.from({ length: 5 }, () => envelope());
    await t.publish(
      'd',
      after.map((e) => ({ envelope: e })),
    );
    await until(() => acked.size === 15, 'all acked');
    expect(statuses).to.include('reconnecting');
    expect(t.status).to.equal('ready');
  });

  it('close is idempotent, bounded while a handler hangs, and leaves no active handles', async () => {
    // Mocha arms its own test-timeout timer after the test function starts: take the baseline after a tick.
    await new Promise((resolve) => setImmediate(resolve));
    const baseline = process.getActiveResourcesInfo().length;
    const t = new InMemoryTransport({ broker });
    await t.connect();
    await t.provision({ destinations: [{ name: 'd', groups: [{ name: 'g', ordered: false }] }] });
    let started = false;
    const sub: Subscription = await t.subscribe(spec('d', 'g'), () => {
      started = true;
      return new Promise(() => undefined);
    });
    await t.publish('d', [{ envelope: envelope() }, { envelope: envelope(), delayMs: 60_000 }]);
    await until(() => started, 'handler start');
    await Promise.all([t.close(20), t.close(20), sub.close(20)]);
    expect(t.status).to.equal('closed');
    expect(process.getActiveResourcesInfo().length).to.be.at.most(baseline);
    expect(broker.stats('d', 'g')).to.include({ inFlight: 0, ready: 2, consumers: 0 });
  });
});
