import {
  EventHandler,
  REPLAY_COUNT_HEADER,
  createEventBus,
  defineEvent,
  type EventBus,
  type HandlerContext,
  type MessageEnvelope,
  type Transport,
} from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCase } from '../contract-case.js';
import type { CaseContext } from '../support/case-context.js';

/** A transport from the adapter's factory, not connected (the bus connects and owns it). */
async function busTransport(ctx: CaseContext): Promise<Transport> {
  const transport = await ctx.options.createTransport();
  ctx.adopt(transport);
  return transport;
}

interface Step {
  readonly chain: string;
}

/** What a handler saw: the envelope it received and the one it published, if any. */
interface Hop {
  readonly received: MessageEnvelope;
  readonly published?: MessageEnvelope;
}

/** Z4: correlation and causation through a handler's own publish, end to end. */
export const causationChainCase: ContractCase = {
  id: 'Z4',
  rules: [9],
  title:
    'through the EventBus, a handler’s own publish carries the incoming correlation (or the incoming id when it had none) and the incoming id as causation, across two hops',
  timeoutMs: 40_000,
  async run(ctx) {
    const first = defineEvent<Step>(`${ctx.name('e')}.v1`, { destination: ctx.name('d') });
    const second = defineEvent<Step>(`${ctx.name('e')}.v1`, { destination: ctx.name('d') });
    const third = defineEvent<Step>(`${ctx.name('e')}.v1`, { destination: ctx.name('d') });
    const hops = { first: [] as Hop[], second: [] as Hop[], third: [] as Hop[] };
    const group = ctx.name('g');
    class ChainHandlers {
      @EventHandler(first, { group, retry: { maxAttempts: 1 } })
      async onFirst(payload: Step, context: HandlerContext): Promise<void> {
        const published = await bus.publish(second, payload);
        hops.first.push({ received: context.envelope, published });
      }

      @EventHandler(second, { group, retry: { maxAttempts: 1 } })
      async onSecond(payload: Step, context: HandlerContext): Promise<void> {
        const published = await bus.publish(third, payload);
        hops.second.push({ received: context.envelope, published });
      }

      @EventHandler(third, { group, retry: { maxAttempts: 1 } })
      onThird(_payload: Step, context: HandlerContext): Promise<void> {
        hops.third.push({ received: context.envelope });
        return Promise.resolve();
      }
    }
    const bus: EventBus = createEventBus({
      transport: await busTransport(ctx),
      handlers: [ChainHandlers],
      events: [first, second, third],
    });
    try {
      await bus.start();
      const correlated = await bus.publish(
        first,
        { chain: 'correlated' },
        { correlationId: `corr-${ctx.name('z')}` },
      );
      const plain = await bus.publish(first, { chain: 'plain' });
      // A hop is recorded once its own publish resolved, which can be after the next hop already
      // received that message (the broker's reply to the publish may trail the delivery).
      await ctx.waitFor(
        () => hops.first.length >= 2 && hops.second.length >= 2 && hops.third.length >= 2,
        'both chains to pass all three handlers, each hop recorded',
        30_000,
      );
      const chainOf = (hop: Hop): string =>
        (JSON.parse(new TextDecoder().decode(hop.received.payload)) as Step).chain;
      for (const start of [correlated, plain]) {
        const name = (JSON.parse(new TextDecoder().decode(start.payload)) as Step).chain;
        const [a, b, c] = [hops.first, hops.second, hops.third].map((list) =>
          list.find((h) => chainOf(h) === name),
        );
        const expectedCorrelation = start.correlationId ?? start.id;
        expect(a?.received.id, `${name}: the first handler received the published id`).to.equal(start.id);
        expect(a?.received.correlationId, `${name}: correlation at hop 1`).to.equal(start.correlationId);
        expect(b?.received.id, `${name}: hop 2 received what hop 1 published`).to.equal(a?.published?.id);
        expect(b?.received.correlationId, `${name}: correlation at hop 2`).to.equal(expectedCorrelation);
        expect(b?.received.causationId, `${name}: causation at hop 2 (hop 1's id)`).to.equal(start.id);
        expect(c?.received.id, `${name}: hop 3 received what hop 2 published`).to.equal(b?.published?.id);
        expect(c?.received.correlationId, `${name}: correlation at hop 3`).to.equal(expectedCorrelation);
        expect(c?.received.causationId, `${name}: causation at hop 3 (hop 2's id)`).to.equal(b?.received.id);
        expect(
          new Set([start.id, b?.received.id, c?.received.id]).size,
          `${name}: three distinct ids`,
        ).to.equal(3);
      }
    } finally {
      await bus.stop({ drainTimeoutMs: ctx.ms(2_000) });
    }
  },
};

/** Z5: one message id from publish through retries, the dead-letter destination and a replay. */
export const idStabilityCase: ContractCase = {
  id: 'Z5',
  rules: [4, 5, 9],
  title:
    'through the EventBus, a message keeps its published id on every retry, in the dead-letter destination and (with a dead-letter store) on its replay',
  timeoutMs: 40_000,
  async run(ctx) {
    const destination = ctx.name('d');
    const group = ctx.name('g');
    const event = defineEvent<Step>(`${ctx.name('e')}.v1`, { destination });
    const calls: { id: string; attempt: number; replay: string | undefined }[] = [];
    class FailingHandler {
      @EventHandler(event, {
        group,
        retry: { maxAttempts: 3, initialDelayMs: 50, multiplier: 2, maxDelayMs: 1_000, jitter: 0 },
      })
      handle(_payload: Step, context: HandlerContext): Promise<void> {
        const replay = context.envelope.headers[REPLAY_COUNT_HEADER];
        calls.push({ id: context.envelope.id, attempt: context.deliveryAttempt, replay });
        if (replay !== undefined) return Promise.resolve();
        return Promise.reject(new Error('fails until replayed'));
      }
    }
    const transport = await busTransport(ctx);
    const bus = createEventBus({ transport, handlers: [FailingHandler], events: [event] });
    try {
      await bus.start();
      const sent = await bus.publish(event, { chain: 'id' });
      await ctx.waitFor(() => calls.length >= 3, 'three attempts', 20_000);
      expect(
        calls.map((c) => `${c.id}#${String(c.attempt)}`),
        'id and attempt of every retry',
      ).to.deep.equal([1, 2, 3].map((n) => `${sent.id}#${String(n)}`));
      const store = ctx.capabilities.deadLetterStore === true ? transport.deadLetters : undefined;
      if (store === undefined) {
        const dead = await ctx.readDeadLetters(destination, group, 1, 15_000);
        expect(
          dead.map((d) => d.envelope.id),
          'the dead letter carries the published id',
        ).to.deep.equal([sent.id]);
        ctx.notes.push('no dead-letter store: replay not exercised');
        return;
      }
      let listed: readonly { envelope: MessageEnvelope }[] = [];
      await ctx.waitFor(
        async () => {
          listed = await store.list({ destination, group });
          return listed.length >= 1;
        },
        'the dead letter in the store',
        15_000,
      );
      expect(
        listed.map((r) => r.envelope.id),
        'the dead letter carries the published id',
      ).to.deep.equal([sent.id]);
      const result = await store.replay({ destination, group });
      expect(
        result.replayed.map((r) => r.envelope.id),
        'replayed ids',
      ).to.deep.equal([sent.id]);
      await ctx.waitFor(() => calls.length >= 4, 'the replayed delivery', 20_000);
      expect(calls[3], 'the replay reaches the handler under the published id').to.deep.include({
        id: sent.id,
        replay: '1',
      });
      expect(await store.list({ destination, group }), 'dead letters after the replay').to.have.length(0);
    } finally {
      await bus.stop({ drainTimeoutMs: ctx.ms(2_000) });
    }
  },
};
