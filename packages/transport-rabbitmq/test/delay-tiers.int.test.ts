// Delay tiers are declared on first use (default) instead of 16 quorum wait queues per prefix.
import { randomUUID } from 'node:crypto';
import { expect } from 'chai';
import { createEnvelope } from '@omnibus/core';
import type { Delivery, MessageEnvelope } from '@omnibus/core';
import { waitFor } from '@omnibus/core/testing';
import { RabbitMqTransport } from '../src/index.js';
import type { RabbitMqTransportInput } from '../src/index.js';
import { NativeClient, RABBITMQ_URL, ensureRabbitMq, uniquePrefix } from './rabbitmq-test-support.js';

const TIERS = [100, 200, 500, 1_000, 2_000, 5_000];

describe('RabbitMQ delay tiers: lazy by default, eager on request', function () {
  this.timeout(60_000);
  const transports: RabbitMqTransport[] = [];
  const natives: { native: NativeClient; prefix: string }[] = [];

  const setup = (options: RabbitMqTransportInput = {}) => {
    const prefix = uniquePrefix('tiers');
    const native = new NativeClient(prefix);
    natives.push({ native, prefix });
    const transport = new RabbitMqTransport({
      urls: [RABBITMQ_URL],
      prefix,
      delayTiersMs: TIERS,
      ...options,
    });
    transports.push(transport);
    const destination = `it.${randomUUID().slice(0, 8)}.v1`;
    const group = `g-${randomUUID().slice(0, 6)}`;
    native.track(destination, group);
    return { transport, native, destination, group };
  };
  const existingTiers = async (transport: RabbitMqTransport, native: NativeClient): Promise<number[]> => {
    const found: number[] = [];
    for (const tier of TIERS)
      if (await native.queueExists(transport.names.delayQueue(tier))) found.push(tier);
    return found;
  };
  const envelope = (): MessageEnvelope =>
    createEnvelope({
      type: 'it.tiers.v1',
      payload: new TextEncoder().encode('{}'),
      contentType: 'application/json',
    });

  before(async () => {
    await ensureRabbitMq();
  });

  after(async () => {
    await Promise.all(transports.splice(0).map((t) => t.close(2_000)));
    for (const { native } of natives) await native.cleanup(TIERS);
  });

  it('declares no tier at provisioning, then exactly the tiers that retries and delayed publishes use', async () => {
    const { transport, native, destination, group } = setup();
    await transport.provision({
      destinations: [{ name: destination, groups: [{ name: group, ordered: false }] }],
    });
    expect(await existingTiers(transport, native)).to.deep.equal([]);

    const seen: { attempt: number; at: number }[] = [];
    await transport.subscribe(
      { destination, group, concurrency: 4, ordered: false, handlerTimeoutMs: 5_000 },
      async (delivery: Delivery) => {
        seen.push({ attempt: delivery.deliveryAttempt, at: Date.now() });
        if (delivery.deliveryAttempt === 1)
          await delivery.retry(150); // tier 200
        else await delivery.ack();
      },
    );
    const start = Date.now();
    // Two publishes racing to the same missing tier: one declaration, both delivered after the delay.
    await Promise.all([
      transport.publish(destination, [{ envelope: envelope(), delayMs: 300 }]),
      transport.publish(destination, [{ envelope: envelope(), delayMs: 400 }]),
    ]);
    await waitFor(() => seen.filter((s) => s.attempt === 2).length === 2, { timeoutMs: 10_000 });
    for (const s of seen) expect(s.at - start).to.be.at.least(300);
    const retried = seen.filter((s) => s.attempt === 2).map((s) => s.at);
    const first = seen.filter((s) => s.attempt === 1).map((s) => s.at);
    expect(Math.min(...retried) - Math.min(...first)).to.be.at.least(150);
    expect(await existingTiers(transport, native)).to.deep.equal([200, 500]);
  });

  it('eager provisioning declares every configured tier up front', async () => {
    const { transport, native, destination, group } = setup({ delayTierProvisioning: 'eager' });
    await transport.provision({
      destinations: [{ name: destination, groups: [{ name: group, ordered: false }] }],
    });
    expect(await existingTiers(transport, native)).to.deep.equal(TIERS);
  });
});
