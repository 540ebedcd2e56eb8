import { ErrorCodes } from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import { sleep } from '../support/wait-for.js';
import { expectOmnibusRejection, expectSameIds, needs, receivedIds } from './case-helpers.js';

/** O. Duplicates: exact accounting and publish-side de-duplication. */
export const duplicateCases: ContractCaseGroup = {
  letter: 'O',
  title: 'duplicates',
  cases: [
    {
      id: 'O1',
      rules: [1, 3, 6],
      title:
        '100 messages to two groups of two competing members: each group settles each message exactly once when fault-free (noDuplicatesWithoutFaults)',
      timeoutMs: 30_000,
      async run(ctx) {
        const caps = ctx.capabilities;
        const groupCount = caps.fanOut ? 2 : 1;
        const t1 = await ctx.transport();
        const t2 = caps.competingConsumers ? await ctx.transport() : t1;
        const { destination, groups } = await ctx.topology(t1, { groups: groupCount });
        const consumers = [];
        for (const group of groups) {
          consumers.push(await ctx.consume(t1, { destination, group, concurrency: 4 }));
          if (t2 !== t1) consumers.push(await ctx.consume(t2, { destination, group, concurrency: 4 }));
        }
        const sent = ctx.envelopes(100);
        for (let i = 0; i < sent.length; i += 20) await ctx.publish(t1, destination, sent.slice(i, i + 20));
        await ctx.waitForLedger('all 100 messages in every group', 20_000);
        const summary = ctx.ledger.summary();
        ctx.notes.push(
          `delivered ${String(summary.delivered)} for ${String(100 * groupCount)} expected settlements`,
        );
        if (caps.noDuplicatesWithoutFaults)
          expect(summary.duplicateCount, `duplicates: ${summary.duplicates.join(', ')}`).to.equal(0);
        expect(summary.delivered, 'deliveries').to.be.at.least(100 * groupCount);
      },
    },
    {
      id: 'O2',
      rules: [3],
      title: 'a second publish of the same message id is dropped by the broker (publishDeduplication)',
      requires: needs.publishDeduplication,
      async run(ctx) {
        const t = await ctx.transport();
        const ordered = ctx.capabilities.ordering === 'per-key';
        const { destination, groups } = await ctx.topology(t, { groups: 1, ordered });
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string, ordered });
        const sent = ctx.envelope({ partitionKey: 'dedup' });
        const sentinel = ctx.envelope({ partitionKey: 'dedup' });
        await ctx.publish(t, destination, [sent]);
        await ctx.publish(t, destination, [sent], { deduplicated: true });
        await ctx.publish(t, destination, [sentinel]);
        await ctx.waitForIds(consumer, [sent.id, sentinel.id], 'the message and the sentinel');
        if (!ordered) await sleep(ctx.ms(500));
        expect(
          consumer.ids().filter((id) => id === sent.id).length,
          'deliveries of the twice-published id',
        ).to.equal(1);
      },
    },
  ],
};

/** P. Batch publish. */
export const batchCases: ContractCaseGroup = {
  letter: 'P',
  title: 'batch publish',
  cases: [
    {
      id: 'P1',
      rules: [2],
      title: 'one publish call with 25 messages delivers every one of them once',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string, concurrency: 4 });
        const sent = ctx.envelopes(25);
        await ctx.publish(t, destination, sent);
        await ctx.waitForLedger('all 25 messages');
        expectSameIds(
          receivedIds(consumer),
          sent.map((e) => e.id),
          'received set',
        );
      },
    },
    {
      id: 'P2',
      rules: [2, 12],
      title:
        'a batch containing an oversize message rejects with an OmnibusError (never a silent partial success)',
      requires: (c) =>
        c.maxPayloadBytes > 64 * 1024 * 1024
          ? 'capability maxPayloadBytes above the tested 64 MiB'
          : undefined,
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string });
        const batch = [
          ctx.envelope(),
          ctx.envelope(),
          ctx.envelope({ payload: new Uint8Array(ctx.capabilities.maxPayloadBytes + 1) }),
          ctx.envelope(),
        ];
        await expectOmnibusRejection(
          ctx.publish(t, destination, batch),
          'a batch with an oversize message',
          ErrorCodes.PAYLOAD_TOO_LARGE,
        );
        const sentinel = ctx.envelope();
        await ctx.publish(t, destination, [sentinel]);
        await ctx.waitForIds(consumer, [sentinel.id], 'the sentinel');
        if (ctx.capabilities.atomicBatchPublish) {
          expect(consumer.ids(), 'deliveries after a rejected atomic batch').to.deep.equal([sentinel.id]);
        } else {
          ctx.notes.push(
            `non-atomic batch: ${String(consumer.ids().length - 1)} of the 3 valid messages were delivered`,
          );
        }
      },
    },
  ],
};

/** X. Declared capabilities. */
export const declarationCases: ContractCaseGroup = {
  letter: 'X',
  title: 'capability declaration',
  cases: [
    {
      id: 'X1',
      rules: [6, 7, 13],
      title: 'the capabilities declared to the suite are exactly what each transport instance reports',
      requires: (_c, options) =>
        options.capabilities === undefined ? 'capabilities not declared in the suite options' : undefined,
      async run(ctx) {
        const t = await ctx.transport();
        expect(t.capabilities).to.deep.equal(ctx.options.capabilities);
      },
    },
  ],
};
