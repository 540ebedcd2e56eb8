import type { Delivery } from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import type { CaseContext } from '../support/case-context.js';
import { gate, waitFor } from '../support/wait-for.js';

/**
 * A handler that holds each delivery until `target` handlers run at once (or a bounded wait
 * passes), so the ceiling is actually reached if the transport allows it.
 */
function saturatingHandler(
  ctx: CaseContext,
  target: number,
): { handler: (d: Delivery) => Promise<void>; max: () => number } {
  let running = 0;
  let max = 0;
  const handler = async (d: Delivery): Promise<void> => {
    running += 1;
    max = Math.max(max, running);
    await waitFor(() => running >= target, 'saturation', ctx.ms(300), { intervalMs: 2 }).catch(
      () => undefined,
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    running -= 1;
    await d.ack();
  };
  return { handler, max: () => max };
}

/** H. Concurrency limit and head-of-line behaviour within a subscription. */
export const concurrencyCases: ContractCaseGroup = {
  letter: 'H',
  title: 'concurrency',
  cases: [
    {
      id: 'H1',
      rules: [8],
      title:
        'a subscription with concurrency 3 never runs more than 3 handlers at once (and does run several)',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const { handler, max } = saturatingHandler(ctx, 3);
        await ctx.consume(t, { destination, group: groups[0] as string, concurrency: 3 }, handler);
        await ctx.publish(t, destination, ctx.envelopes(15));
        await ctx.waitForLedger('all 15 messages', 10_000);
        expect(max(), 'most handlers running at once').to.be.at.most(3);
        expect(max(), 'most handlers running at once (concurrency must be used)').to.be.at.least(2);
      },
    },
    {
      id: 'H2',
      rules: [7, 8],
      title: 'an ordered subscription with concurrency 2 never runs more than 2 handlers at once across keys',
      async run(ctx) {
        const t = await ctx.transport();
        const ordered = ctx.capabilities.ordering === 'per-key';
        const { destination, groups } = await ctx.topology(t, { groups: 1, ordered });
        const { handler, max } = saturatingHandler(ctx, 2);
        await ctx.consume(t, { destination, group: groups[0] as string, concurrency: 2, ordered }, handler);
        await ctx.publish(
          t,
          destination,
          ctx.envelopes(12, (i) => ({ partitionKey: `k-${String(i % 6)}` })),
        );
        await ctx.waitForLedger('all 12 messages', 10_000);
        expect(max(), 'most handlers running at once').to.be.at.most(2);
      },
    },
    {
      id: 'H3',
      rules: [8],
      title: 'one blocked handler does not hold back the other messages of its subscription (concurrency 2)',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const hold = gate();
        const sent = ctx.envelopes(10);
        const first = sent[0]?.id;
        const consumer = await ctx.consume(
          t,
          { destination, group: groups[0] as string, concurrency: 2 },
          async (d) => {
            if (d.envelope.id === first) await hold.promise;
            await d.ack();
          },
        );
        await ctx.publishInOrder(t, destination, sent);
        await ctx.waitForIds(
          consumer,
          sent.slice(1).map((e) => e.id),
          'the other nine while the first is blocked',
        );
        expect(hold.isOpen()).to.equal(false);
        hold.open();
        await ctx.waitForLedger();
      },
    },
  ],
};
