import { expect } from 'chai';
import {
  createEventBus,
  defineEvent,
  EventHandler,
  InMemoryBroker,
  InMemoryTransport,
  InProcessMigrationClaims,
  MigrationTransport,
  type EventBus,
  type MigrationPhase,
  type Transport,
} from '../src/index.js';
import { waitFor } from '../src/testing/index.js';

const Paid = defineEvent<{ readonly n: number }>('migration.order-paid.v1');
const handled = new Map<string, number>();

class Billing {
  @EventHandler(Paid, { group: 'billing' })
  paid(_payload: { n: number }, context: { envelope: { id: string } }): void {
    handled.set(context.envelope.id, (handled.get(context.envelope.id) ?? 0) + 1);
  }
}

describe('MigrationTransport: a migration from one broker to another', () => {
  const old = new InMemoryBroker();
  const next = new InMemoryBroker();
  const claims = new InProcessMigrationClaims();
  const published: string[] = [];
  const running: EventBus[] = [];

  const transport = (phase: MigrationPhase | 'before'): Transport =>
    phase === 'before'
      ? new InMemoryTransport({ broker: old })
      : new MigrationTransport({
          from: new InMemoryTransport({ broker: old }),
          to: new InMemoryTransport({ broker: next }),
          phase,
          claims,
        });
  const consumer = async (phase: MigrationPhase | 'before'): Promise<EventBus> => {
    const bus = createEventBus({ transport: transport(phase), handlers: [Billing] });
    await bus.start();
    running.push(bus);
    return bus;
  };
  const publish = async (phase: MigrationPhase | 'before', count: number): Promise<void> => {
    const bus = createEventBus({ transport: transport(phase), events: [Paid] });
    await bus.start();
    for (let n = 0; n < count; n += 1) published.push((await bus.publish(Paid, { n })).id);
    await bus.stop();
  };
  const idle = (broker: InMemoryBroker): boolean => {
    const stats = broker.stats(Paid.name, 'billing');
    return stats.ready === 0 && stats.inFlight === 0;
  };
  const settled = async (...brokers: InMemoryBroker[]): Promise<void> => {
    await waitFor(() => published.every((id) => handled.has(id)) && brokers.every(idle), { timeoutMs: 5000 });
  };

  after(async () => {
    await Promise.all(running.map((bus) => bus.stop()));
  });

  it('messages published before, during and after each phase change, with consumers restarting in between: 0 lost, 0 handled twice', async () => {
    // Before: the service on the old broker; some messages wait while the consumer is down.
    let bus = await consumer('before');
    await publish('before', 10);
    await settled(old);
    await bus.stop();
    await publish('before', 10);

    // Dual-write: new consumers read both brokers (two competing instances sharing the claims:
    // one may get a message's old copy and the other its new copy); old and new producers
    // publish side by side.
    bus = await consumer('dual-write');
    const second = await consumer('dual-write');
    await publish('before', 5); // a producer instance not yet rolled out
    await publish('dual-write', 20);
    await settled(old, next);
    await Promise.all([bus.stop(), second.stop()]);
    await publish('dual-write', 10); // both copies wait through the restart
    await publish('before', 5);
    bus = await consumer('dual-write');
    await settled(old, next);
    await bus.stop();
    await publish('dual-write', 10); // copies left for the next phase

    // Drain: publish to the new broker only; the old one is consumed until empty.
    bus = await consumer('drain');
    await publish('drain', 10);
    await bus.stop();
    await publish('drain', 10);
    bus = await consumer('drain');
    await settled(old, next);
    expect(idle(old), 'the old broker drained').to.equal(true);
    await bus.stop();
    await publish('drain', 5); // waits on the new broker through the cut-over

    // Cut-over: the new broker only.
    bus = await consumer('cut-over');
    await publish('cut-over', 10);
    await bus.stop();
    await publish('cut-over', 10);
    bus = await consumer('cut-over');
    await settled(next);

    expect(published).to.have.length(115);
    expect(new Set(published).size).to.equal(115);
    const lost = published.filter((id) => !handled.has(id));
    const twice = [...handled].filter(([, count]) => count > 1);
    expect(lost, 'lost').to.deep.equal([]);
    expect(twice, 'handled twice').to.deep.equal([]);
    expect(handled.size).to.equal(115);
  });

  it('declares what holds while two brokers are consumed, and the new one’s capabilities after the cut-over', () => {
    const from = new InMemoryTransport({ broker: new InMemoryBroker() });
    const to = new InMemoryTransport({ broker: new InMemoryBroker(), maxPayloadBytes: 1024 });
    const dual = new MigrationTransport({ from, to, phase: 'dual-write' });
    expect(dual.name).to.equal('migrate(in-memory→in-memory)');
    expect(dual.capabilities.ordering).to.equal('none');
    expect(dual.capabilities.maxPayloadBytes).to.equal(1024);
    expect(dual.capabilities.atomicBatchPublish).to.equal(false);
    const cut = new MigrationTransport({ from, to, phase: 'cut-over' });
    expect(cut.capabilities.ordering).to.equal('per-key');
  });
});
