import { expect } from 'chai';
import {
  createEnvelope,
  createEventBus,
  defineEvent,
  EventHandler,
  InMemoryBroker,
  InMemoryTransport,
  InProcessMigrationClaims,
  MigrationTransport,
  type EventBus,
  type Delivery,
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
    // Drain publishes to the new transport alone: its publish deduplication is the migration's.
    const dedup = new InMemoryTransport({ broker: new InMemoryBroker(), deduplicationWindowMs: 60_000 });
    expect(
      new MigrationTransport({ from, to: dedup, phase: 'drain' }).capabilities.publishDeduplication,
    ).to.equal(true);
    expect(
      new MigrationTransport({ from, to: dedup, phase: 'dual-write' }).capabilities.publishDeduplication,
    ).to.equal(false);
    expect(new MigrationTransport({ from, to, phase: 'drain' }).capabilities.publishDeduplication).to.equal(
      false,
    );
    const cut = new MigrationTransport({ from, to, phase: 'cut-over' });
    expect(cut.capabilities.ordering).to.equal('per-key');
  });
});

describe('MigrationTransport: replaying a dead letter', () => {
  const destination = 'migration.replay';
  const group = 'replay-group';
  const topology = { destinations: [{ name: destination, groups: [{ name: group, ordered: false }] }] };
  const spec = { destination, group, concurrency: 4, ordered: false, handlerTimeoutMs: 5_000 };
  const envelope = (): ReturnType<typeof createEnvelope> =>
    createEnvelope({
      type: 'migration.replayed.v1',
      payload: new TextEncoder().encode('{}'),
      contentType: 'application/json',
      headers: { 'x-case': 'replay' },
    });

  /** A migration transport whose handler dead-letters `failing` ids and records every handled id. */
  async function consume(
    from: InMemoryBroker,
    to: InMemoryBroker,
    phase: MigrationPhase,
    claims: InProcessMigrationClaims,
    failing: Set<string>,
    handledIds: string[],
  ): Promise<MigrationTransport> {
    const t = new MigrationTransport({
      from: new InMemoryTransport({ broker: from }),
      to: new InMemoryTransport({ broker: to }),
      phase,
      claims,
    });
    await t.connect();
    await t.provision(topology);
    await t.subscribe(spec, async (d: Delivery) => {
      handledIds.push(d.envelope.id);
      if (failing.has(d.envelope.id))
        await d.deadLetter({ code: 'HANDLER_FAILED', message: 'fails until fixed', attempts: 1 });
      else await d.ack();
    });
    return t;
  }

  const idle = (broker: InMemoryBroker): boolean => {
    const stats = broker.stats(destination, group);
    return stats.ready === 0 && stats.inFlight === 0;
  };
  const plain = async (broker: InMemoryBroker): Promise<InMemoryTransport> => {
    const t = new InMemoryTransport({ broker });
    await t.connect();
    await t.provision(topology);
    return t;
  };

  /** Publish `sent` to the old broker only (a producer not yet migrated), consume it in drain: dead-lettered. */
  async function deadOnOldSide(): Promise<{
    from: InMemoryBroker;
    to: InMemoryBroker;
    consumer: MigrationTransport;
    producer: InMemoryTransport;
    sent: ReturnType<typeof createEnvelope>;
    failing: Set<string>;
    handledIds: string[];
  }> {
    const from = new InMemoryBroker();
    const to = new InMemoryBroker();
    const failing = new Set<string>();
    const handledIds: string[] = [];
    const sent = envelope();
    failing.add(sent.id);
    const producer = await plain(from);
    await producer.publish(destination, [{ envelope: sent }]);
    const consumer = await consume(from, to, 'drain', new InProcessMigrationClaims(), failing, handledIds);
    await waitFor(() => from.stats(destination, group).deadLettered === 1, { timeoutMs: 5000 });
    failing.delete(sent.id); // fixed
    return { from, to, consumer, producer, sent, failing, handledIds };
  }

  it('a dead letter replayed with the holding broker’s dead-letter store is handled (its copy returns to the owner side)', async () => {
    const { from, consumer, producer, sent, handledIds } = await deadOnOldSide();
    const result = await producer.deadLetters.replay({ destination, group });
    expect(result.replayed.map((r) => r.envelope.id)).to.deep.equal([sent.id]);
    await waitFor(() => handledIds.length === 2 && idle(from), { timeoutMs: 5000 });
    expect(handledIds).to.deep.equal([sent.id, sent.id]);
    await Promise.all([consumer.close(), producer.close()]);
  });

  it('declared limit: the dead letter re-published with its id through the migration transport in drain (new broker only) is dropped', async () => {
    const { from, to, consumer, producer, sent, handledIds } = await deadOnOldSide();
    const [letter] = await from.waitForDeadLetters(destination, group, 1, 5000);
    await consumer.publish(destination, [{ envelope: letter!.envelope }]);
    // Acknowledged without running the handler: the old side's claim holds the id.
    await waitFor(() => idle(to), { timeoutMs: 5000 });
    expect(handledIds).to.deep.equal([sent.id]);
    await Promise.all([consumer.close(), producer.close()]);
  });

  it('dual-write: the other broker’s copy arriving after the first copy was dead-lettered is dropped (handled and dead-lettered once)', async () => {
    const from = new InMemoryBroker();
    const to = new InMemoryBroker();
    const claims = new InProcessMigrationClaims();
    const failing = new Set<string>();
    const handledIds: string[] = [];
    const sent = envelope();
    failing.add(sent.id);
    // The new broker's consumers run; the old broker's copy waits (its consumers lag).
    const newOnly = await consume(new InMemoryBroker(), to, 'dual-write', claims, failing, handledIds);
    const publisher = new MigrationTransport({
      from: await plain(from),
      to: await plain(to),
      phase: 'dual-write',
      claims,
    });
    await publisher.publish(destination, [{ envelope: sent }]);
    await waitFor(() => to.stats(destination, group).deadLettered === 1, { timeoutMs: 5000 });
    // The old broker's copy arrives late: the same publish, already dead-lettered, so dropped
    // (releasing the claim on dead-lettering would handle it a second time — and, still
    // failing, dead-letter it a second time: the contract's E1/E2 on RabbitMQ → NATS).
    const lagging = await consume(from, new InMemoryBroker(), 'dual-write', claims, failing, handledIds);
    await waitFor(() => idle(from), { timeoutMs: 5000 });
    expect(handledIds).to.deep.equal([sent.id]);
    expect(from.stats(destination, group).deadLettered).to.equal(0);
    await Promise.all([newOnly.close(), lagging.close(), publisher.close()]);
  });
});
