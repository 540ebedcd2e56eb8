import type { ContractCaseGroup } from '../contract-case.js';
import type { Consumer } from '../support/case-context.js';
import { expectSameIds, receivedIds } from './case-helpers.js';

/** I. Persistence across consumer stop/start. */
export const persistenceCases: ContractCaseGroup = {
  letter: 'I',
  title: 'persistence across consumer restarts',
  cases: [
    {
      id: 'I1',
      rules: [1, 10],
      title: 'closing and reopening subscriptions repeatedly mid-stream loses nothing',
      timeoutMs: 25_000,
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        const sent = ctx.envelopes(24);
        await ctx.publish(t, destination, sent);
        const consumers: Consumer[] = [];
        for (let round = 0; round < 12 && !ctx.ledger.isSettled(); round += 1) {
          const consumer = await ctx.consume(t, { destination, group, concurrency: 2 }, async (d) => {
            await new Promise((resolve) => setTimeout(resolve, 2));
            await d.ack();
          });
          consumers.push(consumer);
          await ctx.waitFor(
            () => consumer.received.length >= 4 || ctx.ledger.isSettled(),
            `round ${String(round)} to take a few messages`,
          );
          await consumer.close(ctx.ms(1_000));
        }
        await ctx.waitForLedger();
        expectSameIds(
          receivedIds(...consumers),
          sent.map((e) => e.id),
          'received over all rounds',
        );
      },
    },
    {
      id: 'I2',
      rules: [2, 10],
      title: 'closing the publisher right after publish resolves loses nothing',
      async run(ctx) {
        const consumerTransport = await ctx.transport();
        const { destination, groups } = await ctx.topology(consumerTransport);
        const consumer = await ctx.consume(consumerTransport, {
          destination,
          group: groups[0] as string,
          concurrency: 3,
        });
        const publisher = await ctx.transport();
        const sent = ctx.envelopes(10);
        await Promise.all(sent.map((e) => ctx.publish(publisher, destination, [e])));
        await publisher.close(0);
        await ctx.waitForIds(
          consumer,
          sent.map((e) => e.id),
          'everything confirmed before close',
        );
      },
    },
  ],
};
