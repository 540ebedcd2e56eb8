import type { Delivery } from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import type { CaseContext, Consumer } from '../support/case-context.js';
import { needs } from './case-helpers.js';

/** Let other handlers run between steps, so overlap would be observable. */
async function yieldTurns(turns: number): Promise<void> {
  for (let i = 0; i < turns; i += 1) await new Promise((resolve) => setImmediate(resolve));
}

/** Shared per-key bookkeeping across consumers: order of first handling and overlap. */
function keyTracker(): {
  handler: (d: Delivery) => Promise<void>;
  order: Map<string, string[]>;
  overlaps: string[];
} {
  const order = new Map<string, string[]>();
  const running = new Set<string>();
  const overlaps: string[] = [];
  const handler = async (d: Delivery): Promise<void> => {
    const key = d.envelope.partitionKey ?? '';
    if (running.has(key))
      overlaps.push(`${key}: ${d.envelope.id} started while another message of the key was running`);
    running.add(key);
    await yieldTurns(3);
    const list = order.get(key) ?? [];
    list.push(d.envelope.id);
    order.set(key, list);
    running.delete(key);
    await d.ack();
  };
  return { handler, order, overlaps };
}

async function orderedConsumers(
  ctx: CaseContext,
  count: number,
  handler: (d: Delivery) => Promise<void>,
): Promise<{
  destination: string;
  group: string;
  consumers: Consumer[];
  publisher: Awaited<ReturnType<CaseContext['transport']>>;
}> {
  const publisher = await ctx.transport();
  const { destination, groups } = await ctx.topology(publisher, { groups: 1, ordered: true });
  const group = groups[0] as string;
  const consumers: Consumer[] = [];
  for (let i = 0; i < count; i += 1) {
    const t = i === 0 ? publisher : await ctx.transport();
    consumers.push(await ctx.consume(t, { destination, group, concurrency: 3, ordered: true }, handler));
  }
  return { destination, group, consumers, publisher };
}

/** F. Per-key ordering, including under retries and batch publish. */
export const orderingCases: ContractCaseGroup = {
  letter: 'F',
  title: 'ordering per partition key',
  cases: [
    {
      id: 'F1',
      rules: [7],
      title:
        'messages of one partition key are handled one at a time in publish order (3 keys × 8, interleaved, competing ordered consumers)',
      requires: needs.perKeyOrdering,
      async run(ctx) {
        const tracker = keyTracker();
        const { destination, publisher } = await orderedConsumers(
          ctx,
          ctx.capabilities.competingConsumers ? 2 : 1,
          tracker.handler,
        );
        const keys = ['k-a', 'k-b', 'k-c'];
        const sent = ctx.envelopes(24, (i) => ({ partitionKey: keys[i % 3] as string }));
        await ctx.publishInOrder(publisher, destination, sent);
        await ctx.waitForLedger('all 24 messages', 10_000);
        expect(tracker.overlaps, 'same-key messages running at once').to.deep.equal([]);
        for (const key of keys) {
          expect(tracker.order.get(key), `handling order of key ${key}`).to.deep.equal(
            sent.filter((e) => e.partitionKey === key).map((e) => e.id),
          );
        }
      },
    },
    {
      id: 'F2',
      rules: [4, 7],
      title:
        'ordering holds under retries: a retried message blocks the later messages of its key until it succeeds',
      requires: needs.perKeyOrdering,
      async run(ctx) {
        const log: string[] = [];
        let retriedId = '';
        const handler = async (d: Delivery): Promise<void> => {
          if (d.envelope.partitionKey === 'k-retry')
            log.push(`${d.envelope.id}#${String(d.deliveryAttempt)}`);
          await yieldTurns(2);
          if (d.envelope.id === retriedId && d.deliveryAttempt < 3) await d.retry(50);
          else await d.ack();
        };
        const { destination, publisher } = await orderedConsumers(ctx, 1, handler);
        const sent = ctx.envelopes(5, () => ({ partitionKey: 'k-retry' }));
        const other = ctx.envelopes(3, () => ({ partitionKey: 'k-other' }));
        retriedId = (sent[1] as { id: string }).id;
        await ctx.publishInOrder(publisher, destination, [...sent.slice(0, 2), ...other, ...sent.slice(2)]);
        await ctx.waitForLedger('every message, including the twice-retried one', 10_000);
        const ids = sent.map((e) => e.id);
        expect(log).to.deep.equal([
          `${ids[0] ?? ''}#1`,
          `${ids[1] ?? ''}#1`,
          `${ids[1] ?? ''}#2`,
          `${ids[1] ?? ''}#3`,
          `${ids[2] ?? ''}#1`,
          `${ids[3] ?? ''}#1`,
          `${ids[4] ?? ''}#1`,
        ]);
      },
    },
    {
      id: 'F3',
      rules: [7],
      title: 'messages of one key published in a single batch are handled in batch order',
      requires: needs.perKeyOrdering,
      async run(ctx) {
        const tracker = keyTracker();
        const { destination, publisher } = await orderedConsumers(ctx, 1, tracker.handler);
        const sent = ctx.envelopes(12, (i) => ({ partitionKey: i % 2 === 0 ? 'k-even' : 'k-odd' }));
        await ctx.publish(publisher, destination, sent);
        await ctx.waitForLedger();
        expect(tracker.overlaps).to.deep.equal([]);
        expect(tracker.order.get('k-even')).to.deep.equal(
          sent.filter((_, i) => i % 2 === 0).map((e) => e.id),
        );
        expect(tracker.order.get('k-odd')).to.deep.equal(sent.filter((_, i) => i % 2 === 1).map((e) => e.id));
      },
    },
  ],
};
