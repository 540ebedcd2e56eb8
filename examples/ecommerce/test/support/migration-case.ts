// The migration case on real brokers (docs/guides/migrating-brokers.md): messages published
// before, during and after each phase change, by migrated and not-yet-migrated producers, with
// two competing consumers in dual-write and consumers restarting in between — 0 lost, 0 handled
// twice. Shared by the RabbitMQ → Kafka and SQS → Service Bus stages.
import 'reflect-metadata';
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import {
  createEventBus,
  defineEvent,
  EventHandler,
  type EventBus,
  type HandlerContext,
  type MigrationPhase,
  type Transport,
  type TransportSelection,
} from '@omnibus/core';
import { waitFor } from '@omnibus/core/testing';

/** A transport instance from its adapter's provider (`@omnibus/transport-<name>`), options as given. */
export async function providerTransport(selection: TransportSelection): Promise<Transport> {
  const { name } = selection;
  const module = (await import(`@omnibus/transport-${name}`)) as Record<
    string,
    { create(options: Readonly<Record<string, unknown>>): Transport } | undefined
  >;
  const provider = module[`${name}Transport`];
  if (provider === undefined) throw new Error(`@omnibus/transport-${name} has no provider`);
  return provider.create(selection.options ?? {});
}

/** A phase of the case: `before` is the old transport alone (the application not yet migrated). */
export type CasePhase = MigrationPhase | 'before';

/** How a migration case reaches its brokers. */
export interface MigrationCaseSetup {
  /** The transport (or selection) of a bus in `phase`; a consumer's claims are its own business. */
  transport(phase: CasePhase, role: 'consumer' | 'producer'): Promise<Transport | TransportSelection>;
  /** A plain transport of one side, to read its backlog. */
  probe(side: 'from' | 'to'): Promise<Transport>;
}

/** Define the migration case (one mocha `it`) in the current `describe`. */
export function migrationCase(setup: () => MigrationCaseSetup): void {
  const run = randomBytes(3).toString('hex');
  const Paid = defineEvent<{ readonly n: number }>(`mig${run}.order-paid.v1`);
  const handled = new Map<string, number>();
  const published: string[] = [];
  const running: EventBus[] = [];

  class Billing {
    @EventHandler(Paid, { group: 'billing' })
    paid(_payload: { n: number }, context: HandlerContext): void {
      handled.set(context.envelope.id, (handled.get(context.envelope.id) ?? 0) + 1);
    }
  }

  const consumer = async (phase: CasePhase): Promise<EventBus> => {
    const bus = createEventBus({
      transport: await setup().transport(phase, 'consumer'),
      handlers: [Billing],
    });
    await bus.start();
    running.push(bus);
    return bus;
  };
  const stop = async (...buses: EventBus[]): Promise<void> => {
    await Promise.all(buses.map((bus) => bus.stop({ drainTimeoutMs: 5000 })));
  };
  const publish = async (phase: CasePhase, count: number): Promise<void> => {
    const bus = createEventBus({ transport: await setup().transport(phase, 'producer'), events: [Paid] });
    await bus.start();
    try {
      for (let n = 0; n < count; n += 1) published.push((await bus.publish(Paid, { n })).id);
    } finally {
      await bus.stop();
    }
  };
  /** Every published message handled, and nothing left waiting on `sides` (duplicates delivered and dropped). */
  const settled = async (...sides: ('from' | 'to')[]): Promise<void> => {
    await waitFor(() => published.every((id) => handled.has(id)), { timeoutMs: 90_000, intervalMs: 100 });
    for (const side of sides) {
      const probe = await setup().probe(side);
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
    await settled('from');
    await stop(bus);
    await publish('before', 5);

    bus = await consumer('dual-write');
    const second = await consumer('dual-write');
    await publish('before', 3);
    await publish('dual-write', 10);
    await settled('from', 'to');
    await stop(bus, second);
    await publish('dual-write', 5);
    await publish('before', 3);
    bus = await consumer('dual-write');
    await settled('from', 'to');
    await stop(bus);
    await publish('dual-write', 5);

    bus = await consumer('drain');
    await publish('drain', 5);
    await stop(bus);
    await publish('drain', 5);
    bus = await consumer('drain');
    await settled('from', 'to');
    await stop(bus);
    await publish('drain', 3);

    bus = await consumer('cut-over');
    await publish('cut-over', 5);
    await stop(bus);
    await publish('cut-over', 5);
    bus = await consumer('cut-over');
    await settled('to');

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
}
