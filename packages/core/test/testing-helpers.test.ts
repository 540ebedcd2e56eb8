import { expect } from 'chai';
import { createEnvelope, InstrumentationEmitter, type MessageEnvelope } from '../src/index.js';
import { MessageSpy, waitFor } from '../src/testing/index.js';

const envelope = (id: string, type = 'test.spy.v1'): MessageEnvelope =>
  createEnvelope({ id, type, payload: new Uint8Array(), contentType: 'application/json' });

describe('MessageSpy', () => {
  let emitter: InstrumentationEmitter;
  let spy: MessageSpy;
  beforeEach(() => {
    emitter = new InstrumentationEmitter();
    spy = new MessageSpy(emitter, { capacity: 3 });
  });
  afterEach(() => spy.dispose());

  const settle = (id: string, outcome: 'acked' | 'retried' | 'dead-lettered', attempt = 1): void =>
    emitter.emit('message.settled', {
      outcome,
      envelope: envelope(id),
      attempt,
      destination: 'd',
      group: 'g',
      durationMs: 1,
    });

  it('resolves with an already-seen record, by id and outcome', async () => {
    emitter.emit('message.published', { envelope: envelope('a'), destination: 'd' });
    settle('a', 'acked');
    expect((await spy.waitFor({ id: 'a' })).kind).to.equal('acked');
    expect((await spy.waitFor({ id: 'a', outcome: 'published' })).kind).to.equal('published');
  });

  it('resolves with a future record matching a predicate or type', async () => {
    const waiting = spy.waitFor((r) => r.kind === 'dead-lettered' && r.attempt === 3);
    const byType = spy.waitFor({ type: 'test.spy.v1', outcome: 'retried' });
    settle('b', 'retried', 1);
    settle('b', 'dead-lettered', 3);
    expect((await waiting).envelope.id).to.equal('b');
    expect((await byType).attempt).to.equal(1);
  });

  it('rejects after the timeout, describing what it saw', async () => {
    settle('c', 'acked');
    let error: unknown;
    await spy.waitFor({ id: 'zzz' }, { timeoutMs: 20 }).catch((e: unknown) => (error = e));
    expect((error as Error).message).to.match(
      /nothing matched .*"id":"zzz".* within 20 ms; last seen: acked test.spy.v1#c/,
    );
  });

  it('keeps a bounded buffer but exact counts, and stops listening when disposed', () => {
    for (const id of ['1', '2', '3', '4', '5']) settle(id, 'acked');
    emitter.emit('message.received', { envelope: envelope('6'), attempt: 1, destination: 'd', group: 'g' });
    expect(spy.records.map((r) => r.envelope.id)).to.deep.equal(['4', '5', '6']);
    expect(spy.counts).to.deep.include({ acked: 5, received: 1, published: 0 });
    expect(spy.filter({ outcome: 'acked' })).to.have.length(2);
    spy.dispose();
    settle('7', 'acked');
    expect(spy.counts.acked).to.equal(5);
    spy.clear();
    expect(spy.records).to.deep.equal([]);
    expect(spy.counts.acked).to.equal(0);
  });
});

describe('waitFor', () => {
  it('polls until the condition holds and returns its value', async () => {
    let n = 0;
    expect(
      await waitFor(() => (++n >= 3 ? `done after ${String(n)}` : undefined), { intervalMs: 1 }),
    ).to.equal('done after 3');
  });

  it('rejects after timeoutMs with the last error of a throwing condition', async () => {
    let error: unknown;
    await waitFor(
      () => {
        throw new Error('not yet');
      },
      { timeoutMs: 20, intervalMs: 5, message: 'order shipped' },
    ).catch((e: unknown) => (error = e));
    expect((error as Error).message).to.equal('order shipped within 20 ms (last error: not yet)');
  });
});
