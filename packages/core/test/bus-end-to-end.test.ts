// End-to-end behaviour of the bus on the real in-memory transport (no fakes).
import { expect } from 'chai';
import { z } from 'zod';
import {
  baseRetryDelay,
  createEventBus,
  defineEvent,
  EventHandler,
  InMemoryBroker,
  InMemoryTransport,
  UnrecoverableError,
  type EventBus,
  type HandlerContext,
  type RetryPolicy,
} from '../src/index.js';
import { MessageSpy } from '../src/testing/index.js';

let sequence = 0;
const unique = (name: string): string => `e2e.${name}.${String(process.pid)}.${String(++sequence)}`;

describe('EventBus on the in-memory transport', () => {
  const buses: EventBus[] = [];
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.stop({ drainTimeoutMs: 500 })));
  });

  it('retries with backoff: no attempt starts earlier than the delay the router scheduled, which is never below the un-jittered backoff', async () => {
    const Flaky = defineEvent<{ n: number }>(unique('flaky'));
    const policy: RetryPolicy = {
      maxAttempts: 4,
      initialDelayMs: 40,
      multiplier: 2,
      maxDelayMs: 1000,
      jitter: 0.5,
    };
    const starts: number[] = [];
    const failedAt: number[] = [];
    class FlakyHandler {
      @EventHandler(Flaky, { group: 'flaky', retry: policy })
      on(_payload: { n: number }, context: HandlerContext): void {
        starts.push(performance.now());
        if (context.deliveryAttempt < 4) {
          failedAt.push(performance.now());
          throw new Error(`transient failure ${String(context.deliveryAttempt)}`);
        }
      }
    }
    const bus = createEventBus({ transport: { name: 'in-memory' }, handlers: [FlakyHandler] });
    buses.push(bus);
    const spy = new MessageSpy(bus);
    await bus.start();
    const sent = await bus.publish(Flaky, { n: 1 });
    const acked = await spy.waitFor({ id: sent.id, outcome: 'acked' }, { timeoutMs: 5000 });
    expect(acked.attempt).to.equal(4);
    const retries = spy.filter({ id: sent.id, outcome: 'retried' });
    expect(retries.map((r) => r.attempt)).to.deep.equal([1, 2, 3]);
    for (const [index, retry] of retries.entries()) {
      const attempt = index + 1;
      const base = baseRetryDelay(attempt, policy);
      const scheduled = retry.delayMs ?? -1;
      expect(scheduled, `delay after attempt ${String(attempt)}`).to.be.within(
        base,
        Math.ceil(base * (1 + policy.jitter)),
      );
      const gap = (starts[attempt] ?? 0) - (failedAt[attempt - 1] ?? 0);
      expect(
        gap,
        `attempt ${String(attempt + 1)} started ${gap.toFixed(1)} ms after attempt ${String(attempt)} failed`,
      ).to.be.at.least(scheduled);
      expect(gap).to.be.below(scheduled + 1000);
    }
    spy.dispose();
  });

  it('dead-letters poison, malformed and schema-invalid messages with a reason and keeps consuming', async () => {
    const Order = defineEvent<{ id: string; total: number }>(unique('order'), {
      schema: z.object({ id: z.string(), total: z.number() }),
    });
    const handled: string[] = [];
    class Orders {
      @EventHandler(Order, { group: 'orders', retry: { maxAttempts: 3, initialDelayMs: 1 } })
      on(order: { id: string; total: number }): void {
        if (order.id === 'poison') throw new UnrecoverableError('order total cannot be charged');
        handled.push(order.id);
      }
    }
    const broker = new InMemoryBroker();
    const bus = createEventBus({ transport: new InMemoryTransport({ broker }), handlers: [Orders] });
    buses.push(bus);
    const spy = new MessageSpy(bus);
    await bus.start();
    const poison = await bus.publish(Order, { id: 'poison', total: 1 });
    await broker.publishForeign(Order.name, new TextEncoder().encode('{"id": "broken'), {
      'ce-type': Order.name,
      'ce-id': 'malformed-1',
      'content-type': 'application/json',
    });
    await broker.publishForeign(Order.name, new TextEncoder().encode('{"id": 42}'), {
      'ce-type': Order.name,
      'ce-id': 'invalid-1',
      'content-type': 'application/json',
    });
    await broker.publishForeign(Order.name, new TextEncoder().encode('hello'), {});
    const good = await bus.publish(Order, { id: 'good', total: 2 });
    await spy.waitFor({ id: good.id, outcome: 'acked' });
    const dead = await broker.waitForDeadLetters(Order.name, 'orders', 4, 2000);
    const byId = new Map(dead.map((d) => [d.envelope.id, d]));
    expect(byId.get(poison.id)?.info).to.deep.include({
      code: 'UNRECOVERABLE',
      message: 'order total cannot be charged',
      attempts: 1,
      destination: Order.name,
      group: 'orders',
    });
    expect(new TextDecoder().decode(byId.get(poison.id)?.envelope.payload)).to.equal(
      '{"id":"poison","total":1}',
    );
    expect(byId.get('malformed-1')?.info.code).to.equal('DECODE_FAILED');
    expect(byId.get('invalid-1')?.info.code).to.equal('VALIDATION_FAILED');
    expect(byId.get('invalid-1')?.info.message).to.contain('id:');
    expect(dead.filter((d) => d.info.code === 'UNKNOWN_EVENT_TYPE')).to.have.length(1);
    expect(handled).to.deep.equal(['good']);
    spy.dispose();
  });

  it('exhausts retries into the dead-letter destination with the attempt count', async () => {
    const Failing = defineEvent<{ n: number }>(unique('failing'));
    class AlwaysFails {
      @EventHandler(Failing, { group: 'fails', retry: { maxAttempts: 3, initialDelayMs: 5, jitter: 0 } })
      on(): void {
        throw new Error('still broken');
      }
    }
    const broker = new InMemoryBroker();
    const bus = createEventBus({ transport: new InMemoryTransport({ broker }), handlers: [AlwaysFails] });
    buses.push(bus);
    await bus.start();
    const sent = await bus.publish(Failing, { n: 1 });
    const [dead] = await broker.waitForDeadLetters(Failing.name, 'fails', 1, 3000);
    expect(dead?.envelope.id).to.equal(sent.id);
    expect(dead?.info).to.deep.include({ code: 'HANDLER_FAILED', message: 'still broken', attempts: 3 });
  });

  it('groups fan out and members of one group compete, across buses sharing a broker', async () => {
    const Ping = defineEvent<{ n: number }>(unique('ping'));
    const seen: string[] = [];
    const handlerFor = (group: string, label: string): new () => object => {
      class H {
        @EventHandler(Ping, { group })
        on(payload: { n: number }): void {
          seen.push(`${label}:${String(payload.n)}`);
        }
      }
      return H;
    };
    const broker = new InMemoryBroker();
    const make = (handler: new () => object): EventBus => {
      const bus = createEventBus({ transport: new InMemoryTransport({ broker }), handlers: [handler] });
      buses.push(bus);
      return bus;
    };
    const a1 = make(handlerFor('a', 'a1'));
    const a2 = make(handlerFor('a', 'a2'));
    const b = make(handlerFor('b', 'b'));
    await Promise.all([a1.start(), a2.start(), b.start()]);
    const spy = new MessageSpy(b);
    const spyA1 = new MessageSpy(a1);
    const spyA2 = new MessageSpy(a2);
    for (let n = 0; n < 6; n += 1) await a1.publish(Ping, { n });
    await spy.waitFor(() => spy.counts.acked === 6);
    const { waitFor } = await import('../src/testing/index.js');
    await waitFor(() => spyA1.counts.acked + spyA2.counts.acked === 6);
    expect(seen.filter((s) => s.startsWith('b:'))).to.have.length(6);
    expect(seen.filter((s) => s.startsWith('a'))).to.have.length(6);
    for (const s of [spy, spyA1, spyA2]) s.dispose();
  });

  it('a delayed publish is not delivered before its delay', async () => {
    const Later = defineEvent<{ at: number }>(unique('later'));
    let receivedAt = 0;
    class LaterHandler {
      @EventHandler(Later, { group: 'later' })
      on(): void {
        receivedAt = performance.now();
      }
    }
    const bus = createEventBus({ transport: { name: 'in-memory' }, handlers: [LaterHandler] });
    buses.push(bus);
    const spy = new MessageSpy(bus);
    await bus.start();
    const publishedAt = performance.now();
    const sent = await bus.publish(Later, { at: 1 }, { delayMs: 60 });
    await spy.waitFor({ id: sent.id, outcome: 'acked' });
    expect(receivedAt - publishedAt).to.be.at.least(60);
    spy.dispose();
  });

  it('stop drains an in-flight handler and acks it before closing', async () => {
    const Slow = defineEvent<{ n: number }>(unique('slow'));
    let release: () => void = () => undefined;
    let started = false;
    class SlowHandler {
      @EventHandler(Slow, { group: 'slow' })
      async on(): Promise<void> {
        started = true;
        await new Promise<void>((resolve) => (release = resolve));
      }
    }
    const bus = createEventBus({ transport: { name: 'in-memory' }, handlers: [SlowHandler] });
    const spy = new MessageSpy(bus);
    await bus.start();
    const sent = await bus.publish(Slow, { n: 1 });
    const { waitFor } = await import('../src/testing/index.js');
    await waitFor(() => started);
    const stopping = bus.stop({ drainTimeoutMs: 2000 });
    expect(bus.status).to.equal('stopping');
    setTimeout(() => release(), 20);
    await stopping;
    expect(spy.filter({ id: sent.id, outcome: 'acked' })).to.have.length(1);
    expect(bus.status).to.equal('stopped');
    spy.dispose();
  });
});
