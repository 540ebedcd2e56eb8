import { expect } from 'chai';
import { DeadlineQueue, type Expirable } from '../src/router/deadline-queue.js';
import { DeliveryContext } from '../src/router/delivery-context.js';
import { createEnvelope, defineEvent, noopLogger } from '../src/index.js';

class Entry implements Expirable {
  readonly expiresAt: number;
  finished = false;
  expired = 0;
  /** Resolves on the first expiry, so a test awaits the event instead of sleeping past it. */
  readonly expiredOnce: Promise<void>;
  #onExpire: () => void = () => undefined;
  constructor(queue: DeadlineQueue) {
    this.expiresAt = queue.deadlineFromNow();
    this.expiredOnce = new Promise((resolve) => (this.#onExpire = resolve));
  }
  expire(): void {
    this.expired += 1;
    this.#onExpire();
  }
}

const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

describe('DeadlineQueue (one shared timer per handler timeout)', () => {
  it('expires only the entries that did not finish, each once, in order', async () => {
    const queue = new DeadlineQueue(20);
    const entries = [new Entry(queue), new Entry(queue), new Entry(queue)];
    for (const entry of entries) queue.add(entry);
    (entries[1] as Entry).finished = true;
    queue.prune();
    // Entries expire in deadline order: once the last one has, the finished middle one was passed over.
    await (entries[2] as Entry).expiredOnce;
    expect(entries.map((e) => e.expired)).to.deep.equal([1, 0, 1]);
    queue.dispose();
  });

  it('keeps no referenced timer once every entry finished, and none after dispose', async () => {
    const before = timers();
    const queue = new DeadlineQueue(10_000);
    const entry = new Entry(queue);
    queue.add(entry);
    expect(timers()).to.equal(before + 1);
    entry.finished = true;
    queue.prune();
    expect(timers()).to.equal(before);
    const late = new Entry(queue);
    queue.add(late);
    expect(timers()).to.equal(before + 1);
    queue.dispose();
    expect(timers()).to.equal(before);
    queue.add(new Entry(queue));
    expect(timers()).to.equal(before);
    await Promise.resolve();
    expect(late.expired).to.equal(0);
  });
});

describe('DeliveryContext (fields paid for on first read)', () => {
  const event = defineEvent<unknown>('perf.context.v1');
  const facts = (headers: Record<string, string> = {}) => ({
    envelope: createEnvelope({
      type: event.name,
      payload: new Uint8Array(),
      contentType: 'application/json',
      headers,
    }),
    deliveryAttempt: 1,
    destination: event.name,
    group: 'g',
    receivedAt: new Date(),
  });
  const shared = { event, handler: 'H.m', maxAttempts: 3, logger: noopLogger };

  it('hands out an already-aborted signal, with the reason, when aborted before the first read', () => {
    const context = new DeliveryContext(facts(), shared, {});
    const reason = new Error('stopped');
    context.abortWith(reason);
    context.abortWith(new Error('second'));
    expect(context.signal.aborted).to.equal(true);
    expect(context.signal.reason).to.equal(reason);
  });

  it('aborts a signal read before the abort, once', () => {
    const context = new DeliveryContext(facts(), shared, {});
    const signal = context.signal;
    let calls = 0;
    signal.addEventListener('abort', () => (calls += 1));
    context.abortWith('timeout');
    context.abortWith('again');
    expect([signal.aborted, signal.reason, calls]).to.deep.equal([true, 'timeout', 1]);
    expect(context.signal).to.equal(signal);
  });

  it('keeps a valid incoming traceparent and generates one (stable across reads) when absent or malformed', () => {
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    expect(
      new DeliveryContext(facts({ traceparent: incoming }), shared, {}).traceparent,
    ).to.equal(incoming);
    const generated = new DeliveryContext(facts({ traceparent: 'garbage' }), shared, {});
    expect(generated.traceparent).to.match(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    expect(generated.traceparent).to.equal(generated.traceparent);
  });
});
