// A migration from RabbitMQ to Kafka with MigrationTransport (docs/guides/migrating-brokers.md):
// messages published before, during and after each phase change, by migrated and not-yet-migrated
// producers, with two competing consumers in dual-write and consumers restarting in between —
// 0 lost, 0 handled twice.
import 'reflect-metadata';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import {
  createEventBus,
  defineEvent,
  EventHandler,
  InProcessMigrationClaims,
  MigrationTransport,
  type EventBus,
  type HandlerContext,
  type MigrationPhase,
  type Transport,
  type TransportSelection,
} from '@omnibus/core';
import { waitFor } from '@omnibus/core/testing';
import { LOCAL_BROKER_OPTIONS } from '../src/local-brokers.js';

const selection = (name: 'rabbitmq' | 'kafka'): TransportSelection => ({
  name,
  options: { ...LOCAL_BROKER_OPTIONS[name] },
});

/** A transport instance from its adapter's provider, pointed at the local broker. */
async function create(name: 'rabbitmq' | 'kafka'): Promise<Transport> {
  const module = (await import(`@omnibus/transport-${name}`)) as Record<
    string,
    { create(options: Readonly<Record<string, unknown>>): Transport } | undefined
  >;
  const provider = module[`${name}Transport`];
  if (provider === undefined) throw new Error(`@omnibus/transport-${name} has no provider`);
  return provider.create(selection(name).options ?? {});
}

describe('migrating from RabbitMQ to Kafka with MigrationTransport', function () {
  this.timeout(300_000);
  const run = randomBytes(3).toString('hex');
  const Paid = defineEvent<{ readonly n: number }>(`mig${run}.order-paid.v1`);
  const handled = new Map<string, number>();
  const published: string[] = [];
  const claims = new InProcessMigrationClaims();
  const running: EventBus[] = [];

  class Billing {
    @EventHandler(Paid, { group: 'billing' })
    paid(_payload: { n: number }, context: HandlerContext): void {
      handled.set(context.envelope.id, (handled.get(context.envelope.id) ?? 0) + 1);
    }
  }

  const transport = async (phase: MigrationPhase | 'before'): Promise<Transport> =>
    phase === 'before'
      ? create('rabbitmq')
      : new MigrationTransport({ from: await create('rabbitmq'), to: await create('kafka'), phase, claims });
  const consumer = async (phase: MigrationPhase | 'before'): Promise<EventBus> => {
    const bus = createEventBus({ transport: await transport(phase), handlers: [Billing] });
    await bus.start();
    running.push(bus);
    return bus;
  };
  const stop = async (...buses: EventBus[]): Promise<void> => {
    await Promise.all(buses.map((bus) => bus.stop({ drainTimeoutMs: 5000 })));
  };
  const publish = async (phase: MigrationPhase | 'before', count: number): Promise<void> => {
    const bus = createEventBus({ transport: await transport(phase), events: [Paid] });
    await bus.start();
    try {
      for (let n = 0; n < count; n += 1) published.push((await bus.publish(Paid, { n })).id);
    } finally {
      await bus.stop();
    }
  };
  /** Every published message handled, and nothing left waiting on `brokers` (duplicates delivered and dropped). */
  const settled = async (...brokers: ('rabbitmq' | 'kafka')[]): Promise<void> => {
    await waitFor(() => published.every((id) => handled.has(id)), { timeoutMs: 90_000, intervalMs: 100 });
    for (const name of brokers) {
      const probe = await create(name);
      await probe.connect();
      try {
        await waitFor(async () => (await probe.readBacklog?.(Paid.name, 'billing'))?.messages === 0, {
          timeoutMs: 60_000,
          intervalMs: 250,
        });
      } finally {
        await probe.close();
      }
    }
  };

  after(async () => {
    await stop(...running);
  });

  it('0 lost and 0 handled twice across dual-write, drain and cut-over with restarts', async () => {
    let bus = await consumer('before');
    await publish('before', 5);
    await settled('rabbitmq');
    await stop(bus);
    await publish('before', 5);

    bus = await consumer('dual-write');
    const second = await consumer('dual-write');
    await publish('before', 3);
    await publish('dual-write', 10);
    await settled('rabbitmq', 'kafka');
    await stop(bus, second);
    await publish('dual-write', 5);
    await publish('before', 3);
    bus = await consumer('dual-write');
    await settled('rabbitmq', 'kafka');
    await stop(bus);
    await publish('dual-write', 5);

    bus = await consumer('drain');
    await publish('drain', 5);
    await stop(bus);
    await publish('drain', 5);
    bus = await consumer('drain');
    await settled('rabbitmq', 'kafka');
    await stop(bus);
    await publish('drain', 3);

    bus = await consumer('cut-over');
    await publish('cut-over', 5);
    await stop(bus);
    await publish('cut-over', 5);
    bus = await consumer('cut-over');
    await settled('kafka');

    expect(new Set(published).size).to.equal(published.length);
    expect(
      published.filter((id) => !handled.has(id)),
      'lost',
    ).to.deep.equal([]);
    expect(
      [...handled].filter(([, count]) => count > 1),
      'handled twice',
    ).to.deep.equal([]);
    expect(handled.size).to.equal(published.length);
  });
});
