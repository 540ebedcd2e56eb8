import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import type { CaseContext, Consumer } from '../support/case-context.js';
import { gate, sleep, within } from '../support/wait-for.js';
import { expectOmnibusRejection, needs } from './case-helpers.js';

/** Multiset of `process.getActiveResourcesInfo()`. */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

function excess(now: Map<string, number>, baseline: Map<string, number>): string[] {
  const extra: string[] = [];
  for (const [type, count] of now) {
    const before = baseline.get(type) ?? 0;
    if (count > before) extra.push(`${type} ×${String(count - before)}`);
  }
  return extra;
}

/** After the case's work, check a fresh subscription of the group receives only a sentinel. */
async function expectOnlySentinel(
  ctx: CaseContext,
  destination: string,
  group: string,
  what: string,
): Promise<Consumer> {
  const t = await ctx.transport();
  const consumer = await ctx.consume(t, { destination, group });
  const sentinel = ctx.envelope();
  await ctx.publish(t, destination, [sentinel]);
  await ctx.waitForIds(consumer, [sentinel.id], 'the sentinel');
  expect(consumer.ids(), what).to.deep.equal([sentinel.id]);
  return consumer;
}

/** K. Graceful close, drain, idempotence, lifecycle misuse and resource leaks. */
export const closeCases: ContractCaseGroup = {
  letter: 'K',
  title: 'close and drain',
  cases: [
    {
      id: 'K1',
      rules: [10],
      title:
        'subscription.close waits for the in-flight handler, which can still settle; the acked message is not redelivered',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        const hold = gate();
        const consumer = await ctx.consume(t, { destination, group }, async (d) => {
          await hold.promise;
          await d.ack();
        });
        const sent = ctx.envelope();
        await ctx.publish(t, destination, [sent]);
        await ctx.waitForIds(consumer, [sent.id], 'the delivery');
        let closed = false;
        const closing = consumer.close(ctx.ms(10_000)).then(() => {
          closed = true;
        });
        await sleep(ctx.ms(150));
        expect(closed, 'close resolved while a handler was still running').to.equal(false);
        hold.open();
        const done = await within(closing, ctx.ms(5_000));
        expect(done.settled, 'close to resolve once the handler finished').to.equal(true);
        await ctx.waitForLedger();
        await expectOnlySentinel(ctx, destination, group, 'after a drained close, only the sentinel arrives');
      },
    },
    {
      id: 'K2',
      rules: [10],
      title: 'transport.close waits for in-flight handlers of every subscription and lets them settle',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t, { groups: ctx.capabilities.fanOut ? 2 : 1 });
        const hold = gate();
        const consumers = await Promise.all(
          groups.map((group) =>
            ctx.consume(t, { destination, group }, async (d) => {
              await hold.promise;
              await d.ack();
            }),
          ),
        );
        const sent = ctx.envelope();
        await ctx.publish(t, destination, [sent]);
        await ctx.waitForIds(consumers, [sent.id], 'the deliveries');
        await ctx.waitFor(
          () => consumers.every((c) => c.received.length === 1),
          'every group to be handling the message',
        );
        let closed = false;
        const closing = t.close(ctx.ms(10_000)).then(() => {
          closed = true;
        });
        await sleep(ctx.ms(150));
        expect(closed, 'transport.close resolved while handlers were still running').to.equal(false);
        hold.open();
        const done = await within(closing, ctx.ms(5_000));
        expect(done.settled, 'transport.close to resolve once the handlers finished').to.equal(true);
        expect(t.status).to.equal('closed');
        await ctx.waitForLedger();
      },
    },
    {
      id: 'K3',
      rules: [1, 10],
      title: 'close is bounded while a handler never finishes; the unsettled message is redelivered later',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, group, sent, release } = await ctx.holdOneDelivery(t);
        const drainMs = 300;
        const started = Date.now();
        const done = await within(t.close(drainMs), drainMs + ctx.ms(5_000));
        expect(
          done.settled,
          `close(${String(drainMs)}) with a hung handler must return within ${String(drainMs + ctx.ms(5_000))} ms`,
        ).to.equal(true);
        ctx.notes.push(`close(${String(drainMs)}) returned after ${String(Date.now() - started)} ms`);
        const next = await ctx.consume(await ctx.transport(), { destination, group });
        await ctx.expectRedelivery(next, sent.id, 'the redelivery after the bounded close', 10_000);
        release();
      },
    },
    {
      id: 'K4',
      rules: [2, 10],
      title: 'close is idempotent; publish and subscribe after close reject with an OmnibusError',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string });
        await Promise.all([consumer.close(100), consumer.close(100)]);
        await consumer.close(100);
        await Promise.all([t.close(100), t.close(100)]);
        await t.close(100);
        expect(t.status).to.equal('closed');
        await expectOmnibusRejection(
          t.publish(destination, [{ envelope: ctx.envelope() }]),
          'publish after close',
        );
        await expectOmnibusRejection(
          t.subscribe(
            {
              destination,
              group: groups[0] as string,
              concurrency: 1,
              ordered: false,
              handlerTimeoutMs: 1000,
            },
            (d) => d.ack(),
          ),
          'subscribe after close',
        );
      },
    },
    {
      id: 'K5',
      rules: [10],
      title:
        'closing releases prefetched, unstarted messages at once: another member gets them while the closing one still drains',
      requires: needs.competingConsumers,
      async run(ctx) {
        const a = await ctx.transport();
        const b = await ctx.transport();
        const { destination, groups } = await ctx.topology(a);
        const group = groups[0] as string;
        const sent = ctx.envelopes(12);
        await ctx.publish(a, destination, sent);
        const hold = gate();
        const slow = await ctx.consume(a, { destination, group }, async (d) => {
          await hold.promise;
          await d.ack();
        });
        await ctx.waitFor(() => slow.received.length >= 1, 'the slow member to start a message');
        const blockedId = slow.ids()[0] as string;
        const fast = await ctx.consume(b, { destination, group, concurrency: 4 });
        const closing = slow.close(ctx.ms(30_000));
        await ctx.waitForIds(
          fast,
          sent.map((e) => e.id).filter((id) => id !== blockedId),
          'every other message to reach the other member while the closing one drains',
        );
        expect(hold.isOpen(), 'the closing member still handling its message').to.equal(false);
        hold.open();
        await closing;
        await ctx.waitForLedger();
      },
    },
    {
      id: 'K6',
      rules: [10],
      title: 'no new deliveries start on a subscription once its close has begun',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        const hold = gate();
        const closing = await ctx.consume(t, { destination, group }, async (d) => {
          await hold.promise;
          await d.ack();
        });
        const first = ctx.envelope();
        await ctx.publish(t, destination, [first]);
        await ctx.waitForIds(closing, [first.id], 'the first delivery');
        const closed = closing.close(ctx.ms(10_000));
        const later = ctx.envelopes(5);
        await ctx.publish(t, destination, later);
        hold.open();
        await closed;
        expect(closing.ids(), 'deliveries to the closed subscription').to.deep.equal([first.id]);
        const next = await ctx.consume(t, { destination, group, concurrency: 2 });
        await ctx.waitForIds(
          next,
          later.map((e) => e.id),
          'the later messages on a new subscription',
        );
      },
    },
    {
      id: 'K7',
      rules: [10],
      title:
        'after close no handles remain: active sockets, timers and other resources return to the baseline',
      async run(ctx) {
        await new Promise((resolve) => setImmediate(resolve));
        const baseline = activeResources();
        const a = await ctx.transport();
        const b = await ctx.transport();
        const { destination, groups } = await ctx.topology(a);
        const longDelay = Math.min(60_000, ctx.capabilities.maxRetryDelayMs);
        const sent = ctx.envelopes(5);
        const consumer = await ctx.consume(
          b,
          { destination, group: groups[0] as string, concurrency: 2 },
          (d) =>
            d.envelope.id === sent[0]?.id && d.deliveryAttempt === 1 && longDelay > 0
              ? d.retry(longDelay)
              : d.ack(),
        );
        await ctx.publish(a, destination, sent);
        if (ctx.capabilities.delayedDelivery !== false) {
          await ctx.publish(a, destination, [
            {
              envelope: ctx.envelope(),
              delayMs: Math.min(60_000, ctx.capabilities.delayedDelivery.maxDelayMs),
            },
          ]);
        }
        await ctx.waitFor(() => consumer.received.length >= 5, 'the messages to be handled');
        ctx.ledger.unexpectGroup(destination, groups[0] as string);
        const problems = await ctx.dispose();
        expect(problems, 'close problems').to.deep.equal([]);
        let extra: string[] = [];
        await ctx
          .waitFor(
            () => {
              extra = excess(activeResources(), baseline);
              return extra.length === 0;
            },
            'active resources to return to the baseline',
            3_000,
            () => extra.join(', '),
          )
          .catch(() => undefined);
        expect(
          extra,
          `resources still active after close (baseline ${JSON.stringify([...baseline])})`,
        ).to.deep.equal([]);
      },
    },
  ],
};
