// PostgresSagaStore on the broker manager's PostgreSQL: the version check under real concurrent
// transactions, steps and their outbox messages committing together, queries, and a saga run
// through it on the in-memory transport with the outbox relay.
import 'reflect-metadata';
import { expect } from 'chai';
import type pg from 'pg';
import { createEventBus, defineEvent, destinationOf, type EventBus } from '@omnibus/core';
import { waitFor } from '@omnibus/core/testing';
import { defineSaga, SagaHost, type SagaChange, type SagaRecord } from '@omnibus/saga';
import { migrate, OutboxRelay, PostgresOutbox, PostgresSagaStore } from '../src/index.js';
import { dropSchema, testPool, uniqueSchema } from './support/database.js';

const record = (version: number, overrides: Partial<SagaRecord> = {}): SagaRecord => ({
  saga: 'orders',
  id: 'o-1',
  version,
  status: 'active',
  state: { version },
  timeouts: [],
  compensations: [],
  handled: [],
  pending: [],
  timedOut: false,
  lastStep: 'step',
  createdAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
  ...overrides,
});

describe('PostgresSagaStore', function () {
  this.timeout(30_000);
  let pool: pg.Pool;
  let schema: string;
  const buses: EventBus[] = [];

  before(async () => {
    pool = testPool();
    schema = uniqueSchema('saga');
    await migrate(pool, { schema });
  });
  after(async () => {
    await Promise.all(buses.map((b) => b.stop({ drainTimeoutMs: 500 })));
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('concurrent saves with one expected version: exactly one commits, the others conflict and write nothing (inserts too)', async () => {
    const outbox = new PostgresOutbox({ schema });
    const store = new PostgresSagaStore({ pool, outbox });
    const Step = defineEvent<{ n: number }>('saga-store.step');
    const change = (version: number, expectedVersion: number, n: number): SagaChange => ({
      record: record(version, { id: 'race', state: { n } }),
      expectedVersion,
      messages: [{ event: Step, payload: { n }, options: { id: `m-${String(version)}-${String(n)}` } }],
      pending: [],
    });
    const inserts = await Promise.all([1, 2, 3, 4].map((n) => store.save(change(1, 0, n))));
    expect(inserts.filter((r) => r === 'saved')).to.have.length(1);
    const updates = await Promise.all([1, 2, 3, 4].map((n) => store.save(change(2, 1, n))));
    expect(updates.filter((r) => r === 'saved')).to.have.length(1);
    const stored = await store.load('orders', 'race');
    expect(stored?.version).to.equal(2);
    const rows = await pool.query<{ id: string }>(`SELECT id FROM "${schema}".omnibus_outbox ORDER BY seq`);
    // One message per committed save; the losers' messages rolled back with them.
    expect(rows.rows.map((r) => r.id)).to.deep.equal([
      `m-1-${String(inserts.indexOf('saved') + 1)}`,
      `m-2-${String((stored?.state as { n: number }).n)}`,
    ]);
  });

  it('finds instances by correlation id, status, age, overdue timeout, timed-out flag and pending messages; pending entries append per step and markDispatched removes only its version', async () => {
    const store = new PostgresSagaStore({ pool, schema });
    const old = new Date(Date.now() - 60_000).toISOString();
    await store.save({
      record: record(1, { saga: 'q', id: 'a', updatedAt: old }),
      expectedVersion: 0,
      messages: [],
      pending: [{ event: 'x', payload: {}, id: 'p1' }],
    });
    // A later step appends its pending entry; it never overwrites the earlier step's.
    await store.save({
      record: record(2, { saga: 'q', id: 'a', updatedAt: old, pending: [] }),
      expectedVersion: 1,
      messages: [],
      pending: [{ event: 'x', payload: {}, id: 'p2' }],
    });
    await store.save({
      record: record(1, { saga: 'q', id: 'b', timeouts: [{ token: 't', name: 'n', dueAt: old }] }),
      expectedVersion: 0,
      messages: [],
      pending: [],
    });
    await store.save({
      record: record(1, { saga: 'q', id: 'c', status: 'compensated', timedOut: true }),
      expectedVersion: 0,
      messages: [],
      pending: [],
    });
    const ids = async (q: Parameters<PostgresSagaStore['find']>[0]): Promise<string[]> =>
      (await store.find(q)).map((r) => r.id).sort();
    expect(await ids({ saga: 'q', id: 'b' })).to.deep.equal(['b']);
    expect(await ids({ saga: 'q', status: 'active' })).to.deep.equal(['a', 'b']);
    expect(await ids({ saga: 'q', status: ['active', 'compensated'], limit: 2 })).to.have.length(2);
    expect(
      await ids({ saga: 'q', status: 'active', updatedBefore: new Date(Date.now() - 30_000) }),
    ).to.deep.equal(['a']);
    expect(await ids({ saga: 'q', timeoutDueBefore: new Date() })).to.deep.equal(['b']);
    expect(await ids({ saga: 'q', timedOut: true })).to.deep.equal(['c']);
    expect(await ids({ saga: 'q', pending: true })).to.deep.equal(['a']);
    expect(await ids({ saga: 'q', pending: false })).to.deep.equal(['b', 'c']);
    const pendingVersions = async (): Promise<number[]> =>
      ((await store.load('q', 'a'))?.pending ?? []).map((p) => p.version);
    expect(await pendingVersions()).to.deep.equal([1, 2]);
    await store.markDispatched('q', 'a', 1);
    expect(await pendingVersions()).to.deep.equal([2]);
    await store.markDispatched('q', 'a', 3);
    expect(await pendingVersions()).to.deep.equal([2]);
    await store.markDispatched('q', 'a', 2);
    expect(await pendingVersions()).to.deep.equal([]);
    expect(await ids({ saga: 'q', pending: true })).to.deep.equal([]);
  });

  it('a saga with the outbox: state and messages commit together, the relay publishes them, timeouts included', async () => {
    const Started = defineEvent<{ id: string }>(`saga-store.started.${schema}`);
    const Requested = defineEvent<{ id: string }>(`saga-store.requested.${schema}`);
    const Undone = defineEvent<{ id: string }>(`saga-store.undone.${schema}`);
    const outbox = new PostgresOutbox({ schema });
    const saga = defineSaga(`saga-store.${schema}`, {
      initialState: () => ({ n: 0 }),
      publishes: [Requested, Undone],
    })
      .startedBy(Started, { correlate: 'id' }, (s, m) => {
        s.state.n += 1;
        s.publish(Requested, { id: m.id });
        s.addCompensation(Undone, { id: m.id });
        s.schedule('expire', 200);
      })
      .onTimeout('expire', (s) => s.compensate('expired'));
    const sagas = new SagaHost({ sagas: [saga], store: new PostgresSagaStore({ pool, outbox }) });
    const bus = createEventBus({ handlers: [...sagas.handlers], events: [...sagas.events] });
    sagas.attach(bus);
    buses.push(bus);
    await bus.start();
    // Only the saga publishes these; a publish no consumer group subscribes to is refused
    // (NO_SUBSCRIBERS) and the relay would keep those rows, and the timeout behind them, pending.
    await bus.transport?.provision({
      destinations: [Requested, Undone].map((e) => ({
        name: destinationOf(e),
        groups: [{ name: 'observer', ordered: false }],
      })),
    });
    // The store tests above wrote outbox rows for an event no bus here consumes; the relay of this
    // test would be refused on them (NO_SUBSCRIBERS) batch after batch, so they are not its business.
    await pool.query(`DELETE FROM "${schema}".omnibus_outbox WHERE dispatched_at IS NULL`);
    const relay = new OutboxRelay({ bus, pool, schema, pollIntervalMs: 50 });
    relay.start();
    try {
      await bus.publish(Started, { id: 'x1' });
      const done = await waitFor(async () => {
        const r = await sagas.get(saga.name, 'x1');
        return r?.status === 'compensated' ? r : undefined;
      });
      expect(done).to.include({ version: 2, timedOut: true, reason: 'expired' });
      expect(done.pending).to.deep.equal([]);
      const rows = await pool.query<{ type: string; delay_ms: number | null }>(
        `SELECT type, delay_ms FROM "${schema}".omnibus_outbox WHERE type LIKE $1 ORDER BY seq`,
        [`%${schema}%`],
      );
      expect(rows.rows.map((r) => r.type)).to.deep.equal([
        Requested.name,
        saga.timeoutEvent.name,
        Undone.name,
      ]);
      expect(rows.rows[1]?.delay_ms).to.be.within(1, 200);
    } finally {
      await relay.stop();
    }
  });
});
