// Adapter-specific integration tests against the real RabbitMQ (node scripts/brokers/cli.mjs up rabbitmq).
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createEnvelope, isOmnibusError } from '@omnibus/core';
import type { GetMessage } from 'amqplib';
import type { Delivery, MessageEnvelope, TransportStatus } from '@omnibus/core';
import { waitFor } from '@omnibus/core/testing';
import { RabbitMqTransport } from '../src/index.js';
import type { RabbitMqTransportInput } from '../src/index.js';
import {
  NativeClient,
  RABBITMQ_URL,
  dropRabbitMqConnections,
  ensureRabbitMq,
  uniquePrefix,
} from './rabbitmq-test-support.js';

const TIERS = [100, 200, 500, 1_000, 2_000, 5_000];
const QUEUE_TYPE = process.env['OMNIBUS_TEST_RABBITMQ_QUEUE_TYPE'] === 'classic' ? 'classic' : 'quorum';

describe(`RabbitMqTransport against RabbitMQ (${QUEUE_TYPE} queues)`, function () {
  this.timeout(60_000);
  const prefix = uniquePrefix('adapter');
  const native = new NativeClient(prefix);
  const transports: RabbitMqTransport[] = [];

  const make = (options: RabbitMqTransportInput = {}): RabbitMqTransport => {
    const transport = new RabbitMqTransport({
      urls: [RABBITMQ_URL],
      prefix,
      delayTiersMs: TIERS,
      queueType: QUEUE_TYPE,
      reconnectMaxDelayMs: 1_000,
      ...options,
    });
    transports.push(transport);
    return transport;
  };
  const names = (): { destination: string; group: string } => {
    const destination = `it.${randomUUID().slice(0, 8)}.v1`;
    const group = `g-${randomUUID().slice(0, 6)}`;
    native.track(destination, group);
    return { destination, group };
  };
  const envelope = (overrides: Partial<Parameters<typeof createEnvelope>[0]> = {}): MessageEnvelope =>
    createEnvelope({
      type: 'it.test.v1',
      payload: new TextEncoder().encode(JSON.stringify({ n: 1 })),
      contentType: 'application/json',
      ...overrides,
    });

  before(async () => {
    await ensureRabbitMq();
  });

  afterEach(async () => {
    await Promise.all(transports.splice(0).map((t) => t.close(2_000)));
  });

  after(async () => {
    await native.cleanup(TIERS);
  });

  it('provisions exchanges, group and dead-letter queues and (eager) delay tiers', async () => {
    const { destination, group } = names();
    const transport = make({ delayTierProvisioning: 'eager' });
    await transport.provision({
      destinations: [{ name: destination, groups: [{ name: group, ordered: false }] }],
    });
    expect(await native.messageCount(transport.names.groupQueue(destination, group))).to.equal(0);
    expect(await native.messageCount(transport.names.deadLetterQueue(destination, group))).to.equal(0);
    for (const tier of TIERS) expect(await native.messageCount(transport.names.delayQueue(tier))).to.equal(0);
    // Idempotent.
    await transport.provision({
      destinations: [{ name: destination, groups: [{ name: group, ordered: false }] }],
    });
  });

  it('pushes header filters down: the queue gets only what some filter wants, other publishes still resolve, and dropping the filter restores everything', async () => {
    const { destination, group } = names();
    const transport = make();
    const queue = transport.names.groupQueue(destination, group);
    const plain = { name: group, ordered: false };
    // A queue first provisioned without a filter (an earlier deploy) is switched over.
    await transport.provision({ destinations: [{ name: destination, groups: [plain] }] });
    const withFilters = {
      ...plain,
      headerFilters: [{ region: 'eu' }, { region: 'ch', tier: 'gold' }],
    };
    await transport.provision({ destinations: [{ name: destination, groups: [withFilters] }] });
    const send = (headers: Record<string, string>): Promise<void> =>
      transport.publish(destination, [{ envelope: envelope({ headers }) }]);
    await send({ region: 'eu' });
    await send({ region: 'us' });
    await send({ region: 'ch', tier: 'gold' });
    await send({ region: 'ch' });
    await send({ region: 'EU', tier: 'gold' });
    await send({});
    // Confirmed publishes are routed: no filter wanted four of them, and none was refused.
    expect(await native.messageCount(queue), 'messages in the filtered queue').to.equal(2);
    expect(transport.capabilities.headerFilters).to.equal('broker');
    await transport.provision({ destinations: [{ name: destination, groups: [plain] }] });
    await send({ region: 'us' });
    expect(await native.messageCount(queue), 'after the filter was removed').to.equal(3);
  });

  it('verify mode rejects missing topology with PROVISIONING_FAILED', async () => {
    const { destination, group } = names();
    const transport = make({ provisioning: 'verify', prefix: uniquePrefix('verify') });
    const error: unknown = await transport
      .provision({ destinations: [{ name: destination, groups: [{ name: group, ordered: false }] }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isOmnibusError(error) && error.code).to.equal('PROVISIONING_FAILED');
  });

  it('publishes persistent messages with native properties and wire headers', async () => {
    const { destination, group } = names();
    const transport = make();
    await transport.provision({
      destinations: [{ name: destination, groups: [{ name: group, ordered: false }] }],
    });
    const sent = envelope({
      correlationId: 'corr-1',
      causationId: 'cause-1',
      partitionKey: 'k1',
      headers: { 'x-tenant': 't1', traceparent: '00-abc' },
    });
    await transport.publish(destination, [{ envelope: sent }]);
    const channel = await (await native.model()).createChannel();
    const message = (await waitFor(() =>
      channel.get(transport.names.groupQueue(destination, group), { noAck: true }),
    )) as GetMessage;
    await channel.close();
    expect(message.properties.deliveryMode).to.equal(2);
    expect(message.properties.messageId).to.equal(sent.id);
    expect(message.properties.correlationId).to.equal('corr-1');
    expect(message.properties.type).to.equal('it.test.v1');
    expect(message.properties.contentType).to.equal('application/json');
    expect(message.properties.timestamp).to.equal(Math.floor(sent.occurredAt.getTime() / 1000));
    expect(message.properties.headers?.['ce-id']).to.equal(sent.id);
    expect(message.properties.headers?.['x-tenant']).to.equal('t1');
    expect(message.properties.headers?.['omnibus-partition-key']).to.equal('k1');
  });

  it('rejects publishing or subscribing to an unprovisioned destination without creating it', async () => {
    const { destination, group } = names();
    const transport = make();
    const published: unknown = await transport
      .publish(destination, [{ envelope: envelope() }])
      .catch((e: unknown) => e);
    expect(isOmnibusError(published) && published.code).to.equal('PUBLISH_FAILED');
    const subscribed: unknown = await transport
      .subscribe({ destination, group, concurrency: 1, ordered: false, handlerTimeoutMs: 1_000 }, (d) =>
        d.ack(),
      )
      .catch((e: unknown) => e);
    expect(isOmnibusError(subscribed) && subscribed.code).to.equal('SUBSCRIBE_FAILED');
    const channel = await (await native.model()).createChannel();
    channel.on('error', () => undefined);
    const missing: unknown = await channel
      .checkExchange(transport.names.destinationExchange(destination))
      .catch((e: unknown) => e);
    expect(missing).to.be.instanceOf(Error);
  });

  it('rejects an unroutable publish (no group bound) with NO_SUBSCRIBERS', async () => {
    const { destination } = names();
    const transport = make();
    await transport.provision({ destinations: [{ name: destination, groups: [] }] });
    const error: unknown = await transport.publish(destination, [{ envelope: envelope() }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isOmnibusError(error) && error.code).to.equal('NO_SUBSCRIBERS');
    expect((error as Error).message).to.match(/no consumer group subscribes/);
    // The shared confirm channel still works afterwards.
    const other = names();
    await transport.provision({
      destinations: [{ name: other.destination, groups: [{ name: other.group, ordered: false }] }],
    });
    await transport.publish(other.destination, [{ envelope: envelope() }]);
  });

  it('rejects oversize payloads and out-of-range delays before sending', async () => {
    const { destination } = names();
    const transport = make({ maxPayloadBytes: 1024 });
    const big = envelope({ payload: new Uint8Array(1025) });
    const tooBig: unknown = await transport
      .publish(destination, [{ envelope: big }])
      .catch((e: unknown) => e);
    expect(isOmnibusError(tooBig) && tooBig.code).to.equal('PAYLOAD_TOO_LARGE');
    const tooLate: unknown = await transport
      .publish(destination, [{ envelope: envelope(), delayMs: 60_000 }])
      .catch((e: unknown) => e);
    expect(isOmnibusError(tooLate) && tooLate.code).to.equal('DELAY_OUT_OF_RANGE');
  });

  it('retries through a delay tier with the next attempt number, then dead-letters with a reason', async () => {
    const { destination, group } = names();
    const transport = make();
    await transport.provision({
      destinations: [{ name: destination, groups: [{ name: group, ordered: false }] }],
    });
    const seen: { attempt: number; at: number }[] = [];
    await transport.subscribe(
      { destination, group, concurrency: 2, ordered: false, handlerTimeoutMs: 5_000 },
      async (delivery: Delivery) => {
        seen.push({ attempt: delivery.deliveryAttempt, at: Date.now() });
        if (delivery.deliveryAttempt < 3) await delivery.retry(150);
        else
          await delivery.deadLetter({
            code: 'HANDLER_FAILED',
            message: 'boom',
            attempts: delivery.deliveryAttempt,
          });
      },
    );
    const sent = envelope({ headers: { 'x-case': 'retry' } });
    await transport.publish(destination, [{ envelope: sent }]);
    const [dead] = await native.readDeadLetters(destination, group, 1, 10_000);
    expect(seen.map((s) => s.attempt)).to.deep.equal([1, 2, 3]);
    expect((seen[1]?.at ?? 0) - (seen[0]?.at ?? 0)).to.be.at.least(150);
    expect(dead?.envelope.id).to.equal(sent.id);
    expect(dead?.envelope.headers['x-case']).to.equal('retry');
    expect(dead?.info).to.include({
      code: 'HANDLER_FAILED',
      message: 'boom',
      attempts: 3,
      destination,
      group,
    });
  });

  it('delays delivery to every group and not before the delay', async () => {
    const { destination, group } = names();
    const transport = make();
    await transport.provision({
      destinations: [
        {
          name: destination,
          groups: [
            { name: group, ordered: false },
            { name: `${group}-b`, ordered: false },
          ],
        },
      ],
    });
    native.track(destination, `${group}-b`);
    const received: { group: string; at: number }[] = [];
    for (const g of [group, `${group}-b`]) {
      await transport.subscribe(
        { destination, group: g, concurrency: 1, ordered: false, handlerTimeoutMs: 5_000 },
        async (d) => {
          received.push({ group: d.group, at: Date.now() });
          await d.ack();
        },
      );
    }
    const start = Date.now();
    await transport.publish(destination, [{ envelope: envelope(), delayMs: 400 }]);
    await waitFor(() => received.length === 2, { timeoutMs: 10_000 });
    for (const r of received) expect(r.at - start).to.be.at.least(400);
  });

  it('keeps per-key order through retries on ordered subscriptions', async () => {
    const { destination, group } = names();
    const transport = make();
    await transport.provision({
      destinations: [{ name: destination, groups: [{ name: group, ordered: true }] }],
    });
    const handled: string[] = [];
    const failedOnce = new Set<string>();
    await transport.subscribe(
      { destination, group, concurrency: 4, ordered: true, handlerTimeoutMs: 5_000 },
      async (d) => {
        const label = new TextDecoder().decode(d.envelope.payload);
        if (label.endsWith('-1') && !failedOnce.has(label)) {
          failedOnce.add(label);
          await d.retry(100);
          return;
        }
        handled.push(label);
        await d.ack();
      },
    );
    const messages = ['a', 'b'].flatMap((key) =>
      [0, 1, 2, 3].map((i) => ({
        envelope: envelope({ partitionKey: key, payload: new TextEncoder().encode(`${key}-${String(i)}`) }),
      })),
    );
    await transport.publish(destination, messages);
    await waitFor(() => handled.length === 8, { timeoutMs: 10_000 });
    for (const key of ['a', 'b']) {
      expect(handled.filter((l) => l.startsWith(key))).to.deep.equal(
        [0, 1, 2, 3].map((i) => `${key}-${String(i)}`),
      );
    }
  });

  it('survives dropped connections: publishes and consumes again', async () => {
    const { destination, group } = names();
    const transport = make();
    const statuses: TransportStatus[] = [];
    transport.onStatusChange((s) => statuses.push(s));
    await transport.provision({
      destinations: [{ name: destination, groups: [{ name: group, ordered: false }] }],
    });
    const got = new Set<string>();
    await transport.subscribe(
      { destination, group, concurrency: 2, ordered: false, handlerTimeoutMs: 5_000 },
      async (d) => {
        got.add(d.envelope.id);
        await d.ack();
      },
    );
    const first = envelope();
    await transport.publish(destination, [{ envelope: first }]);
    await waitFor(() => got.has(first.id));
    await dropRabbitMqConnections();
    await waitFor(() => statuses.includes('reconnecting'), { timeoutMs: 10_000 });
    const second = envelope();
    await transport.publish(destination, [{ envelope: second }]);
    await waitFor(() => got.has(second.id), { timeoutMs: 20_000 });
    expect(transport.status).to.equal('ready');
  });

  it('after a dropped connection, settling a delivery from the old channel rejects with SETTLEMENT_FAILED and the broker redelivers it', async () => {
    const { destination, group } = names();
    const transport = make();
    await transport.provision({
      destinations: [{ name: destination, groups: [{ name: group, ordered: false }] }],
    });
    const held: Delivery[] = [];
    const attempts: number[] = [];
    await transport.subscribe(
      { destination, group, concurrency: 3, ordered: false, handlerTimeoutMs: 30_000 },
      async (d) => {
        attempts.push(d.deliveryAttempt);
        if (d.deliveryAttempt === 1)
          held.push(d); // settled by the test after the drop
        else await d.ack();
      },
    );
    await transport.publish(
      destination,
      [envelope(), envelope(), envelope()].map((e) => ({ envelope: e })),
    );
    await waitFor(() => held.length === 3);
    await dropRabbitMqConnections();
    // The channel the three came on is gone; every kind of settlement must say so, never resolve.
    const [a, b, c] = held as [Delivery, Delivery, Delivery];
    const outcomes = await Promise.allSettled([
      a.ack(),
      b.retry(0),
      c.deadLetter({ code: 'TEST', message: 'after the drop', attempts: 1 }),
    ]);
    for (const outcome of outcomes) {
      expect(outcome.status, 'a settlement on a dead channel').to.equal('rejected');
      const reason = (outcome as PromiseRejectedResult).reason as unknown;
      expect(isOmnibusError(reason) && reason.code, 'its code').to.equal('SETTLEMENT_FAILED');
    }
    // The broker gives all three back on the new channel, with a higher attempt.
    await waitFor(() => attempts.filter((n) => n > 1).length === 3, { timeoutMs: 20_000 });
    const deadLetters = await native.messageCount(transport.names.deadLetterQueue(destination, group));
    expect(deadLetters, 'no dead-letter copy from the rejected deadLetter()').to.equal(0);
  });

  it('returns prefetched but unstarted messages on close', async () => {
    const { destination, group } = names();
    const transport = make({ prefetch: 10 });
    await transport.provision({
      destinations: [{ name: destination, groups: [{ name: group, ordered: false }] }],
    });
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let started = 0;
    const subscription = await transport.subscribe(
      { destination, group, concurrency: 1, ordered: false, handlerTimeoutMs: 5_000 },
      async (d) => {
        started += 1;
        await gate;
        await d.ack();
      },
    );
    await transport.publish(
      destination,
      [0, 1, 2, 3, 4].map(() => ({ envelope: envelope() })),
    );
    await waitFor(() => started === 1);
    const closing = subscription.close(5_000);
    release();
    await closing;
    expect(started).to.equal(1);
    await waitFor(
      async () => (await native.messageCount(transport.names.groupQueue(destination, group))) === 4,
      { timeoutMs: 5_000 },
    );
  });
});
