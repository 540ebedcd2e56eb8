// Sagas on the real in-memory transport: the concurrency rule, timeouts after completion, missing
// instances, redelivery of an applied step, and the fulfilment flow end to end.
import 'reflect-metadata';
import { expect } from 'chai';
import {
  createEventBus,
  defineEvent,
  destinationOf,
  type EventBus,
  type EventDefinition,
} from '@omnibus/core';
import { MessageSpy, waitFor } from '@omnibus/core/testing';
import {
  defineSaga,
  InMemorySagaStore,
  SagaHost,
  type SagaChange,
  type SagaEvents,
  type SagaRecord,
} from '../src/index.js';

let sequence = 0;
const unique = (name: string): string => `saga-unit.${name}.${String(process.pid)}.${String(++sequence)}`;

/** Collects every saga event of a host. */
function record(host: SagaHost): { [K in keyof SagaEvents]: SagaEvents[K][] } {
  const seen = { 'saga.transition': [], 'saga.conflict': [], 'saga.deferred': [], 'saga.ignored': [] } as {
    [K in keyof SagaEvents]: SagaEvents[K][];
  };
  host.on('saga.transition', (e) => seen['saga.transition'].push(e));
  host.on('saga.conflict', (e) => seen['saga.conflict'].push(e));
  host.on('saga.deferred', (e) => seen['saga.deferred'].push(e));
  host.on('saga.ignored', (e) => seen['saga.ignored'].push(e));
  return seen;
}

/** An in-memory store whose loads wait until `parties` loads are in flight (forces a read-read-write-write race). */
class BarrierStore extends InMemorySagaStore {
  #waiting: (() => void)[] = [];
  armed = 0;
  override async load(saga: string, id: string): Promise<SagaRecord | undefined> {
    const result = await super.load(saga, id);
    if (this.armed > 0) {
      this.armed -= 1;
      await new Promise<void>((resolve) => {
        this.#waiting.push(resolve);
        if (this.armed === 0) for (const release of this.#waiting.splice(0)) release();
      });
    }
    return result;
  }
}

describe('sagas on the in-memory transport', () => {
  const buses: EventBus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.stop({ drainTimeoutMs: 500 })));
  });

  /** Provision a consumer group for events only the saga publishes (a publish nobody subscribes to is refused). */
  async function observe(bus: EventBus, ...events: EventDefinition<unknown>[]): Promise<void> {
    await bus.transport?.provision({
      destinations: events.map((e) => ({
        name: destinationOf(e),
        groups: [{ name: 'observer', ordered: false }],
      })),
    });
  }

  async function start(host: SagaHost, extra: (new () => object)[] = []): Promise<EventBus> {
    const bus = createEventBus({ handlers: [...host.handlers, ...extra] });
    host.attach(bus);
    buses.push(bus);
    await bus.start();
    return bus;
  }

  it('concurrency: two messages for one instance read the same version; the loser conflicts, is redelivered and re-runs on fresh state (no lost update)', async () => {
    const Opened = defineEvent<{ id: string }>(unique('opened'));
    const Added = defineEvent<{ id: string; item: string }>(unique('added'));
    const runs: string[] = [];
    const saga = defineSaga(unique('cart'), {
      initialState: () => ({ items: [] as string[] }),
      handler: { concurrency: 2 },
      conflictRetryDelayMs: 5,
    })
      .startedBy(Opened, { correlate: 'id' }, () => undefined)
      .on(Added, { correlate: 'id' }, (s, added) => {
        runs.push(`${added.item}@v${String(s.version)}`);
        s.state.items.push(added.item);
      });
    const store = new BarrierStore();
    const host = new SagaHost({ sagas: [saga], store });
    const seen = record(host);
    const bus = await start(host);
    await bus.publish(Opened, { id: 'c1' });
    await waitFor(() => seen['saga.transition'].length === 1);
    store.armed = 2;
    await Promise.all([
      bus.publish(Added, { id: 'c1', item: 'a' }),
      bus.publish(Added, { id: 'c1', item: 'b' }),
    ]);
    await waitFor(() => seen['saga.transition'].length === 3, { message: 'both updates committed' });
    const final = await host.get(saga.name, 'c1');
    expect([...(final?.state as { items: string[] }).items].sort()).to.deep.equal(['a', 'b']);
    expect(final?.version).to.equal(3);
    expect(seen['saga.conflict']).to.have.length(1);
    expect(seen['saga.conflict'][0]?.expectedVersion).to.equal(1);
    // Both ran on version 1; the loser ran again on version 2.
    expect(runs.filter((r) => r.endsWith('@v1'))).to.have.length(2);
    expect(runs.filter((r) => r.endsWith('@v2'))).to.have.length(1);
  });

  it('the store rejects a save whose expected version is stale, and an insert over an existing instance', async () => {
    const store = new InMemorySagaStore();
    const base: SagaRecord = {
      saga: 's',
      id: 'i',
      version: 1,
      status: 'active',
      state: { n: 1 },
      timeouts: [],
      compensations: [],
      handled: [{ messageId: 'm1', version: 1 }],
      pending: [],
      timedOut: false,
      lastStep: 'x',
      createdAt: new Date().toISOString(),
      updatedAt: new Date().toISOString(),
    };
    const change = (version: number, expectedVersion: number): SagaChange => ({
      record: { ...base, version, state: { n: version } },
      expectedVersion,
      messages: [],
      pending: [],
    });
    expect(await store.save(change(1, 0))).to.equal('saved');
    expect(await store.save(change(1, 0))).to.equal('conflict');
    expect(await store.save(change(2, 1))).to.equal('saved');
    expect(await store.save(change(2, 1))).to.equal('conflict');
    expect((await store.load('s', 'i'))?.state).to.deep.equal({ n: 2 });
  });

  it('a timeout that arrives after the saga completed is ignored: no step, no compensation, state unchanged', async () => {
    const Started = defineEvent<{ id: string }>(unique('started'));
    const Done = defineEvent<{ id: string }>(unique('done'));
    const Compensated = defineEvent<{ id: string }>(unique('compensated'));
    let timeoutSteps = 0;
    const saga = defineSaga(unique('short'), {
      initialState: () => ({ done: false }),
      publishes: [Compensated],
    })
      .startedBy(Started, { correlate: 'id' }, (s, m) => {
        s.addCompensation(Compensated, { id: m.id });
        s.schedule('expire', 150);
      })
      .on(Done, { correlate: 'id' }, (s) => {
        s.state.done = true;
        s.complete('done'); // deliberately no cancelTimeout: completion alone must disarm it
      })
      .onTimeout('expire', (s) => {
        timeoutSteps += 1;
        s.compensate('expired');
      });
    const host = new SagaHost({ sagas: [saga] });
    const seen = record(host);
    const bus = await start(host);
    const spy = new MessageSpy(bus);
    await bus.publish(Started, { id: 't1' });
    await waitFor(() => seen['saga.transition'].length === 1);
    await bus.publish(Done, { id: 't1' });
    await waitFor(() => seen['saga.transition'].length === 2);
    const ignored = await waitFor(() => seen['saga.ignored'].find((e) => e.step === 'timeout:expire'), {
      message: 'the timeout message arrived',
    });
    expect(ignored.reason).to.equal('finished');
    expect(timeoutSteps).to.equal(0);
    const final = await host.get(saga.name, 't1');
    expect(final).to.include({ status: 'completed', version: 2, timedOut: false, reason: 'done' });
    expect(final?.timeouts).to.deep.equal([]);
    expect(spy.filter({ type: Compensated.name, outcome: 'published' })).to.have.length(0);
  });

  it('a re-armed or cancelled timeout is ignored as stale; the armed one fires and compensates (last registered first)', async () => {
    const Started = defineEvent<{ id: string }>(unique('started'));
    const Extend = defineEvent<{ id: string }>(unique('extend'));
    const Undo1 = defineEvent<{ id: string }>(unique('undo1'));
    const Undo2 = defineEvent<{ id: string }>(unique('undo2'));
    const saga = defineSaga(unique('rearm'), { initialState: () => ({}), publishes: [Undo1, Undo2] })
      .startedBy(Started, { correlate: 'id' }, (s, m) => {
        s.addCompensation(Undo1, { id: m.id });
        s.schedule('expire', 50);
      })
      .on(Extend, { correlate: 'id' }, (s, m) => {
        s.addCompensation(Undo2, { id: m.id });
        s.schedule('expire', 300);
      })
      .onTimeout('expire', (s) => s.compensate('expired'));
    const host = new SagaHost({ sagas: [saga] });
    const seen = record(host);
    const bus = await start(host);
    await observe(bus, Undo1, Undo2);
    const spy = new MessageSpy(bus);
    await bus.publish(Started, { id: 'r1' });
    await bus.publish(Extend, { id: 'r1' });
    await waitFor(() => seen['saga.ignored'].some((e) => e.reason === 'stale-timeout'));
    const final = await waitFor(async () => {
      const r = await host.get(saga.name, 'r1');
      return r?.status === 'compensated' ? r : undefined;
    });
    expect(final).to.include({ timedOut: true, reason: 'expired', version: 3 });
    const order = await waitFor(() => {
      const undo = spy.records.filter(
        (m) => m.kind === 'published' && (m.envelope.type === Undo1.name || m.envelope.type === Undo2.name),
      );
      return undo.length === 2 ? undo.map((m) => m.envelope.type) : undefined;
    });
    expect(order).to.deep.equal([Undo2.name, Undo1.name]);
    expect(await host.timedOut({ saga: saga.name })).to.have.length(1);
  });

  it('an event for an instance that does not exist yet is retried later (whenMissing retry) and applied once the instance exists; ignore is reported', async () => {
    const Started = defineEvent<{ id: string }>(unique('started'));
    const Early = defineEvent<{ id: string }>(unique('early'));
    const Stray = defineEvent<{ ref: string }>(unique('stray'));
    const saga = defineSaga(unique('missing'), {
      initialState: () => ({ early: 0 }),
      missingRetryDelayMs: 30,
    })
      .startedBy(Started, { correlate: 'id' }, () => undefined)
      .on(Early, { correlate: 'id' }, (s) => {
        s.state.early += 1;
      })
      .on(Stray, { correlate: { header: 'x-order' }, whenMissing: 'ignore' }, () => undefined);
    const host = new SagaHost({ sagas: [saga] });
    const seen = record(host);
    const bus = await start(host);
    await bus.publish(Early, { id: 'm1' });
    await waitFor(() => seen['saga.deferred'].length >= 1);
    await bus.publish(Started, { id: 'm1' });
    await waitFor(() => seen['saga.transition'].length === 2, {
      message: 'the early event applied after the start',
    });
    expect((await host.get(saga.name, 'm1'))?.state).to.deep.equal({ early: 1 });
    await bus.publish(Stray, { ref: 'x' }, { headers: { 'x-order': 'nope' } });
    const ignored = await waitFor(() => seen['saga.ignored'].find((e) => e.id === 'nope'));
    expect(ignored.reason).to.equal('no-instance');
  });

  it('a missing correlation id dead-letters the message (SAGA_CORRELATION_MISSING), never drops it', async () => {
    const Started = defineEvent<{ id?: string }>(unique('started'));
    const saga = defineSaga(unique('nocorr'), { initialState: () => ({}) }).startedBy(
      Started,
      { correlate: 'id' },
      () => undefined,
    );
    const host = new SagaHost({ sagas: [saga] });
    const bus = await start(host);
    const spy = new MessageSpy(bus);
    const sent = await bus.publish(Started, {});
    const settled = await spy.waitFor({ id: sent.id, outcome: 'dead-lettered' });
    expect(settled.reason?.code).to.equal('SAGA_CORRELATION_MISSING');
  });

  it('a step whose publish failed after commit is completed on redelivery: the same message ids are published, the state is not changed twice', async () => {
    const Started = defineEvent<{ id: string }>(unique('started'));
    const Next = defineEvent<{ id: string }>(unique('next'));
    let steps = 0;
    const saga = defineSaga(unique('redeliver'), {
      initialState: () => ({ steps: 0 }),
      publishes: [Next],
      handler: { retry: { maxAttempts: 5, initialDelayMs: 10 } },
    }).startedBy(Started, { correlate: 'id' }, (s, m) => {
      steps += 1;
      s.state.steps += 1;
      s.publish(Next, { id: m.id });
    });
    const host = new SagaHost({ sagas: [saga] });
    const seen = record(host);
    const bus = createEventBus({ handlers: [...host.handlers], events: [...host.events] });
    buses.push(bus);
    let failOnce = true;
    host.attach({
      transport: undefined,
      publish: async (event, payload, options) => {
        if (failOnce && event.name === Next.name) {
          failOnce = false;
          throw new Error('broker unavailable');
        }
        return bus.publish(event, payload, options);
      },
    });
    const spy = new MessageSpy(bus);
    await bus.start();
    await observe(bus, Next);
    const sent = await bus.publish(Started, { id: 'p1' });
    await spy.waitFor({ id: sent.id, outcome: 'acked' });
    expect(steps).to.equal(1);
    expect(seen['saga.ignored'].map((e) => e.reason)).to.deep.equal(['duplicate']);
    const next = await spy.waitFor({ type: Next.name, outcome: 'published' });
    const stored = await host.get(saga.name, 'p1');
    expect(stored).to.include({ version: 1 });
    expect(stored?.state).to.deep.equal({ steps: 1 });
    expect(stored?.pending).to.deep.equal([]);
    expect(spy.filter({ type: Next.name, outcome: 'published' })).to.have.length(1);
    expect(next.envelope.correlationId).to.equal(sent.id);
  });

  /**
   * A saga whose step publishes `Next`, on a bus whose publishes of `Next` fail while
   * `down.value` is true (a broker outage seen by the saga only); the step's message is sent.
   */
  async function sweepFixture(maxAttempts: number, id: string) {
    const Started = defineEvent<{ id: string }>(unique('started'));
    const Next = defineEvent<{ id: string }>(unique('next'));
    const saga = defineSaga(unique('sweep'), {
      initialState: () => ({ steps: 0 }),
      publishes: [Next],
      handler: { retry: { maxAttempts, initialDelayMs: 5 } },
    }).startedBy(Started, { correlate: 'id' }, (s, m) => {
      s.state.steps += 1;
      s.publish(Next, { id: m.id });
    });
    const host = new SagaHost({ sagas: [saga] });
    const bus = createEventBus({ handlers: [...host.handlers], events: [...host.events] });
    buses.push(bus);
    const down = { value: true };
    host.attach({
      transport: undefined,
      publish: async (event, payload, options) => {
        if (down.value && event.name === Next.name) throw new Error('broker unavailable');
        return bus.publish(event, payload, options);
      },
    });
    const spy = new MessageSpy(bus);
    await bus.start();
    await observe(bus, Next);
    const sent = await bus.publish(Started, { id });
    return { host, saga, spy, Next, sent, down };
  }

  it('pending sweep: a committed step whose publishes kept failing until its message was dead-lettered is re-sent by resendPending with the same ids, once, and only when old enough', async () => {
    const { host, saga, spy, Next, sent, down } = await sweepFixture(2, 's1');
    // Attempt 1 commits and fails to publish; attempt 2 (a redelivery of an applied message) fails
    // to publish again and the message is dead-lettered: nothing will bring it back.
    await spy.waitFor({ id: sent.id, outcome: 'dead-lettered' });
    const stuck = await host.get(saga.name, 's1');
    expect(stuck?.state).to.deep.equal({ steps: 1 });
    expect(stuck?.pending).to.have.length(1);
    const pendingId = stuck?.pending[0]?.messages[0]?.id;
    down.value = false;
    // Too recent for the given age: left for the step itself.
    expect(await host.resendPending({ olderThanMs: 60_000 })).to.deep.include({ instances: 0, messages: 0 });
    expect(spy.filter({ type: Next.name, outcome: 'published' })).to.have.length(0);
    const swept = await host.resendPending({ olderThanMs: 0 });
    expect(swept).to.deep.include({ instances: 1, messages: 1 });
    expect(swept.failures).to.deep.equal([]);
    const next = await spy.waitFor({ type: Next.name, outcome: 'published' });
    expect(next.envelope.id).to.equal(pendingId);
    expect((await host.get(saga.name, 's1'))?.pending).to.deep.equal([]);
    // A second pass finds nothing: each pending message is re-sent once.
    expect(await host.resendPending({ olderThanMs: 0 })).to.deep.include({ instances: 0, messages: 0 });
    expect(spy.filter({ type: Next.name, outcome: 'published' })).to.have.length(1);
    expect((await host.get(saga.name, 's1'))?.state).to.deep.equal({ steps: 1 });
  });

  it('pending sweep: a pass whose publish fails keeps the entry and reports the instance; sweepPending re-sends on a later pass', async () => {
    const { host, saga, spy, Next, sent, down } = await sweepFixture(1, 't1');
    await spy.waitFor({ id: sent.id, outcome: 'dead-lettered' });
    const failed = await host.resendPending({ olderThanMs: 0 });
    expect(failed).to.deep.include({ instances: 0, messages: 0 });
    expect(failed.failures.map((f) => f.id)).to.deep.equal(['t1']);
    expect((await host.get(saga.name, 't1'))?.pending).to.have.length(1);
    const sweep = host.sweepPending({ olderThanMs: 0, intervalMs: 20 });
    try {
      down.value = false;
      await spy.waitFor({ type: Next.name, outcome: 'published' });
      await waitFor(async () => (await host.get(saga.name, 't1'))?.pending.length === 0);
    } finally {
      await sweep.stop();
    }
    expect(spy.filter({ type: Next.name, outcome: 'published' })).to.have.length(1);
  });
});
