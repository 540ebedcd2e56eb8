import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import { expectSameIds, needs, receivedIds } from './case-helpers.js';

/** G. Consumer groups: fan-out, competing consumers, durability, members leaving. */
export const groupCases: ContractCaseGroup = {
  letter: 'G',
  title: 'consumer groups',
  cases: [
    {
      id: 'G1',
      rules: [6],
      title: 'two groups each receive every message (fan-out)',
      requires: needs.fanOut,
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t, { groups: 2 });
        const [g1, g2] = groups as [string, string];
        const c1 = await ctx.consume(t, { destination, group: g1, concurrency: 2 });
        const c2 = await ctx.consume(await ctx.transport(), { destination, group: g2, concurrency: 2 });
        const sent = ctx.envelopes(15);
        await ctx.publish(t, destination, sent);
        await ctx.waitForLedger('both groups to settle all 15', 10_000);
        expectSameIds(
          receivedIds(c1),
          sent.map((e) => e.id),
          'group 1',
        );
        expectSameIds(
          receivedIds(c2),
          sent.map((e) => e.id),
          'group 2',
        );
      },
    },
    {
      id: 'G2',
      rules: [6],
      title:
        'members of one group compete: each message goes to exactly one of them and together they get all',
      requires: needs.competingConsumers,
      async run(ctx) {
        const a = await ctx.transport();
        const b = await ctx.transport();
        const { destination, groups } = await ctx.topology(a);
        const group = groups[0] as string;
        const c1 = await ctx.consume(a, { destination, group, concurrency: 2 });
        const c2 = await ctx.consume(b, { destination, group, concurrency: 2 });
        const sent = ctx.envelopes(30);
        await Promise.all(sent.map((e) => ctx.publish(a, destination, [e])));
        await ctx.waitForLedger('all 30 messages', 10_000);
        expectSameIds(
          receivedIds(c1, c2),
          sent.map((e) => e.id),
          'union of both members',
        );
        const both = c1.ids().filter((id) => c2.ids().includes(id));
        expect(both, 'messages delivered to both members').to.deep.equal([]);
        ctx.notes.push(`split between members: ${String(c1.received.length)}/${String(c2.received.length)}`);
      },
    },
    {
      id: 'G3',
      rules: [1, 6],
      title: 'a provisioned group keeps messages published while it has no consumer (durable subscription)',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        const early = await ctx.consume(t, { destination, group });
        await early.close(1000);
        const sent = ctx.envelopes(10);
        await ctx.publish(t, destination, sent);
        const late = await ctx.consume(await ctx.transport(), { destination, group, concurrency: 3 });
        await ctx.waitForIds(
          late,
          sent.map((e) => e.id),
          'messages published while nobody consumed',
        );
      },
    },
    {
      id: 'G4',
      rules: [1, 6, 10],
      title: 'a member leaving mid-stream loses nothing: the remaining member gets the rest',
      requires: needs.competingConsumers,
      async run(ctx) {
        const a = await ctx.transport();
        const b = await ctx.transport();
        const { destination, groups } = await ctx.topology(a);
        const group = groups[0] as string;
        const pace = async (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 5));
        const c1 = await ctx.consume(a, { destination, group, concurrency: 2 }, async (d) => {
          await pace();
          await d.ack();
        });
        const c2 = await ctx.consume(b, { destination, group, concurrency: 2 }, async (d) => {
          await pace();
          await d.ack();
        });
        const sent = ctx.envelopes(40);
        await ctx.publish(a, destination, sent);
        await ctx.waitFor(() => c1.received.length >= 3, 'the leaving member to handle a few');
        await c1.close(ctx.ms(2_000));
        await ctx.waitForLedger('the rest to reach the remaining member', 10_000);
        expectSameIds(
          receivedIds(c1, c2),
          sent.map((e) => e.id),
          'union of both members',
        );
      },
    },
    {
      id: 'G5',
      rules: [1, 6],
      title:
        'a group provisioned before a publish and never subscribed receives that message when its first consumer subscribes later (durability without a restart)',
      async run(ctx) {
        const t = await ctx.transport();
        const fanOut = ctx.capabilities.fanOut;
        const { destination, groups } = await ctx.topology(t, { groups: fanOut ? 2 : 1 });
        const later = groups[groups.length - 1] as string;
        // With fan-out, a live group proves the messages were flowing while the later one had no consumer.
        const live = fanOut ? await ctx.consume(t, { destination, group: groups[0] as string }) : undefined;
        const sent = ctx.envelopes(10);
        await ctx.publish(t, destination, sent);
        if (live !== undefined)
          await ctx.waitForIds(
            live,
            sent.map((e) => e.id),
            'the live group',
          );
        const late = await ctx.consume(await ctx.transport(), { destination, group: later, concurrency: 3 });
        await ctx.waitForIds(
          late,
          sent.map((e) => e.id),
          'messages published before the group ever had a consumer',
          10_000,
        );
      },
    },
  ],
};
