import { expect } from 'chai';
import {
  BacklogSampler,
  createEventBus,
  defineEvent,
  ErrorCodes,
  EventHandler,
  InMemoryBroker,
  InMemoryTransport,
  isOmnibusError,
  type BacklogReading,
  type EventBus,
} from '../src/index.js';
import { waitFor } from '../src/testing/index.js';

let sequence = 0;
const unique = (name: string): string => `backlog.${name}.${String(process.pid)}.${String(++sequence)}`;

const reading = (destination: string, group: string, messages: number): BacklogReading => ({
  destination,
  group,
  messages,
  kind: 'unsettled',
  approximate: false,
});

describe('bus.backlog()', () => {
  const buses: EventBus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.stop({ drainTimeoutMs: 500 })));
  });

  it('reports each subscription’s unsettled messages on the in-memory transport, exactly, down to 0 after the drain', async () => {
    const Job = defineEvent<{ n: number }>(unique('job'));
    const gate: { open?: () => void } = {};
    const opened = new Promise<void>((resolve) => (gate.open = resolve));
    class Worker {
      @EventHandler(Job, { group: 'workers', concurrency: 1 })
      async on(): Promise<void> {
        await opened;
      }
    }
    const bus = createEventBus({ transport: new InMemoryTransport(), handlers: [Worker] });
    buses.push(bus);
    expect(await bus.backlog(), 'not started').to.deep.equal([]);
    await bus.start();
    expect(bus.transport?.capabilities.backlog).to.deep.equal({ kind: 'unsettled', approximate: false });
    await bus.publishBatch(
      Job,
      Array.from({ length: 5 }, (_, n) => ({ n })),
    );
    const [first] = await bus.backlog({ maxAgeMs: 0 });
    expect(first?.reading).to.deep.equal(reading(Job.name, 'workers', 5));
    expect(first?.readAt).to.be.instanceOf(Date);
    expect(first?.error).to.equal(undefined);
    gate.open?.();
    await waitFor(async () => (await bus.backlog({ maxAgeMs: 0 }))[0]?.reading?.messages === 0, {
      message: 'backlog 0 after the drain',
    });
  });

  it('rejects a group that is not provisioned with BACKLOG_UNAVAILABLE', async () => {
    const transport = new InMemoryTransport({ broker: new InMemoryBroker() });
    await transport.connect();
    try {
      const error: unknown = await transport.readBacklog('nowhere', 'nobody').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isOmnibusError(error) && error.code).to.equal(ErrorCodes.BACKLOG_UNAVAILABLE);
    } finally {
      await transport.close();
    }
  });
});

describe('BacklogSampler', () => {
  it('reuses a reading younger than maxAgeMs and asks again once it is older', async () => {
    let calls = 0;
    let clock = 1_000;
    const sampler = new BacklogSampler('test', (d, g) => {
      calls += 1;
      return Promise.resolve(reading(d, g, calls));
    });
    const target = [{ destination: 'd', group: 'g' }];
    const now = (): number => clock;
    expect((await sampler.sample(target, { maxAgeMs: 100 }, now))[0]?.reading?.messages).to.equal(1);
    clock += 99;
    expect((await sampler.sample(target, { maxAgeMs: 100 }, now))[0]?.reading?.messages).to.equal(1);
    clock += 1;
    expect((await sampler.sample(target, { maxAgeMs: 100 }, now))[0]?.reading?.messages).to.equal(2);
    expect(calls).to.equal(2);
  });

  it('never waits longer than timeoutMs, keeps one query in flight per group, and reports the broker’s error', async () => {
    const answers: ((r: BacklogReading) => void)[] = [];
    let fail = false;
    const sampler = new BacklogSampler('test', () =>
      fail
        ? Promise.reject(new Error('broker says no'))
        : new Promise<BacklogReading>((resolve) => answers.push(resolve)),
    );
    const target = [
      { destination: 'd', group: 'g' },
      { destination: 'd', group: 'g' },
    ];
    const slow = await sampler.sample(target, { timeoutMs: 20 });
    expect(slow).to.deep.equal([
      { transport: 'test', destination: 'd', group: 'g', error: 'no answer from the broker within 20 ms' },
    ]);
    await sampler.sample(target, { timeoutMs: 1 });
    expect(answers, 'one query in flight, not one per call').to.have.length(1);
    answers[0]?.(reading('d', 'g', 7));
    const late = await sampler.sample(target, { timeoutMs: 20 });
    expect(late[0]?.reading?.messages, 'the late answer refreshed the cache').to.equal(7);
    expect(late[0]?.error).to.equal(undefined);
    fail = true;
    const failed = await sampler.sample(target, { maxAgeMs: 0 });
    expect(failed[0]?.error).to.equal('broker says no');
    expect(failed[0]?.reading?.messages, 'the previous reading is kept').to.equal(7);
  });
});
