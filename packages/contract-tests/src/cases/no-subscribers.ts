import { expect } from 'chai';
import { ErrorCodes, type TransportCapabilities } from '@omnibus/core';
import type { ContractCaseGroup } from '../contract-case.js';
import type { CaseContext } from '../support/case-context.js';
import { all, expectOmnibusRejection, expectSameIds, needs, receivedIds } from './case-helpers.js';

/** Gate: the transport must declare that it rejects a publish nobody subscribes to. */
function rejectsWithoutSubscribers(c: TransportCapabilities): string | undefined {
  const declared = c.publishWithoutSubscribers ?? 'unchecked';
  return declared === 'rejects' ? undefined : `capability publishWithoutSubscribers=${declared}`;
}

/** Gate: a destination's groups are known to the broker (rejects or retained), so a group provisioned elsewhere counts. */
function knowsSubscribers(c: TransportCapabilities): string | undefined {
  const declared = c.publishWithoutSubscribers ?? 'unchecked';
  return declared === 'unchecked' ? 'capability publishWithoutSubscribers=unchecked' : undefined;
}

/** The delay of U3's publishes: long enough to outlive adding a group, short for the run. */
const U3_DELAY_MS = 500;

/** Provision `destination` with one new group on `transport` (another service's consumer), expected by the ledger. */
async function addGroup(ctx: CaseContext, destination: string): Promise<string> {
  const group = ctx.name('g');
  const owner = await ctx.transport();
  await owner.provision({ destinations: [{ name: destination, groups: [{ name: group, ordered: false }] }] });
  ctx.ledger.expectGroups(destination, [group]);
  return group;
}

/** S. Publishing to a destination no consumer group subscribes to (ADR 0005). */
export const noSubscriberCases: ContractCaseGroup = {
  letter: 'U',
  title: 'publishing without subscribers',
  cases: [
    {
      id: 'U1',
      rules: [2, 6],
      title:
        'a publish to a destination no group subscribes to rejects with NO_SUBSCRIBERS and stores nothing; the first publish after a group appears is delivered',
      requires: rejectsWithoutSubscribers,
      timeoutMs: 30_000,
      async run(ctx) {
        const publisher = await ctx.transport();
        const destination = ctx.name('d');
        await publisher.provision({ destinations: [{ name: destination, groups: [] }] });
        const refusedOne = ctx.envelope();
        const one = await expectOmnibusRejection(
          ctx.publish(publisher, destination, [refusedOne]),
          'a publish nobody subscribes to',
          ErrorCodes.NO_SUBSCRIBERS,
        );
        expect(one.retriable, 'NO_SUBSCRIBERS is retriable (it succeeds once a group exists)').to.equal(true);
        expect(one.message, 'the error names the destination').to.contain(destination);
        const refusedBatch = ctx.envelopes(3);
        await expectOmnibusRejection(
          ctx.publish(publisher, destination, refusedBatch),
          'a batch nobody subscribes to (all of it)',
          ErrorCodes.NO_SUBSCRIBERS,
        );
        // Asked again: the negative answer is never remembered.
        await expectOmnibusRejection(
          ctx.publish(publisher, destination, [ctx.envelope()]),
          'a second publish nobody subscribes to',
          ErrorCodes.NO_SUBSCRIBERS,
        );
        const group = await addGroup(ctx, destination);
        const accepted = ctx.envelopes(2);
        await ctx.publishInOrder(publisher, destination, accepted);
        const consumer = await ctx.consume(await ctx.transport(), { destination, group });
        await ctx.waitForLedger('the messages published after the group appeared', 15_000);
        expectSameIds(
          receivedIds(consumer),
          accepted.map((e) => e.id),
          'delivered: exactly the messages published after the group appeared (none of the refused)',
        );
      },
    },
    {
      id: 'U2',
      rules: [2, 6],
      title:
        'a fresh publisher asks the broker: a group provisioned by another service makes its first publish succeed',
      requires: knowsSubscribers,
      timeoutMs: 30_000,
      async run(ctx) {
        const destination = ctx.name('d');
        const group = await addGroup(ctx, destination);
        const publisher = await ctx.transport();
        const sent = ctx.envelopes(3);
        await ctx.publish(publisher, destination, sent);
        const consumer = await ctx.consume(await ctx.transport(), { destination, group, concurrency: 3 });
        await ctx.waitForLedger('the first publish of a publisher that never provisioned the group', 15_000);
        expectSameIds(
          receivedIds(consumer),
          sent.map((e) => e.id),
          'group provisioned elsewhere',
        );
      },
    },
    {
      id: 'U3',
      rules: [2, 6, 13],
      title:
        'a delayed publish to a destination no group subscribes to rejects with NO_SUBSCRIBERS at publish time (it is not accepted and dropped when the delay ends); after a group appears a delayed publish is delivered',
      requires: all(rejectsWithoutSubscribers, needs.delayedDelivery),
      timeoutMs: 30_000,
      async run(ctx) {
        const publisher = await ctx.transport();
        const destination = ctx.name('d');
        await publisher.provision({ destinations: [{ name: destination, groups: [] }] });
        const refused = await expectOmnibusRejection(
          ctx.publish(publisher, destination, [{ envelope: ctx.envelope(), delayMs: U3_DELAY_MS }]),
          'a delayed publish nobody subscribes to',
          ErrorCodes.NO_SUBSCRIBERS,
        );
        expect(refused.retriable, 'NO_SUBSCRIBERS is retriable').to.equal(true);
        expect(refused.message, 'the error names the destination').to.contain(destination);
        await expectOmnibusRejection(
          ctx.publish(
            publisher,
            destination,
            ctx.envelopes(2).map((envelope) => ({ envelope, delayMs: U3_DELAY_MS })),
          ),
          'a delayed batch nobody subscribes to (all of it)',
          ErrorCodes.NO_SUBSCRIBERS,
        );
        const group = await addGroup(ctx, destination);
        const consumer = await ctx.consume(await ctx.transport(), { destination, group });
        // Same delay, published after the refused ones: a refused message wrongly kept would be due first.
        const accepted = ctx.envelope();
        await ctx.publish(publisher, destination, [{ envelope: accepted, delayMs: U3_DELAY_MS }]);
        await ctx.waitForLedger('the delayed message published after the group appeared', 15_000);
        expectSameIds(
          receivedIds(consumer),
          [accepted.id],
          'delivered: only the delayed message published after the group appeared',
        );
      },
    },
  ],
};
