import { isOmnibusError, type Delivery } from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import { gate, outcome, within } from '../support/wait-for.js';
import { expectOmnibusRejection, expectSameIds, needs, receivedIds } from './case-helpers.js';

/** A second settlement must be ignored: it may resolve, or reject with an OmnibusError, never throw synchronously. */
async function secondSettlementIgnored(settle: () => Promise<void>, what: string): Promise<void> {
  const result = await outcome(Promise.resolve().then(settle));
  if (!result.ok)
    expect(
      isOmnibusError(result.error),
      `${what} rejected with a non-Omnibus error: ${String(result.error)}`,
    ).to.equal(true);
}

/** C. Ack / retry / redelivery of unsettled messages. */
export const settlementCases: ContractCaseGroup = {
  letter: 'C',
  title: 'settlement and redelivery',
  cases: [
    {
      id: 'C1',
      rules: [3, 4],
      title:
        'retry(0) redelivers; a second settlement of the same delivery is ignored (no redelivery, no dead letter)',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        const consumer = await ctx.consume(t, { destination, group }, async (d) => {
          if (d.envelope.id === sentinel.id) {
            await d.ack();
            return;
          }
          if (d.deliveryAttempt === 1) {
            await d.retry(0);
            await secondSettlementIgnored(() => d.ack(), 'ack after retry');
          } else {
            await d.ack();
            await secondSettlementIgnored(() => d.ack(), 'ack after ack');
            await secondSettlementIgnored(
              () => d.deadLetter({ code: 'TEST', message: 'must be ignored', attempts: d.deliveryAttempt }),
              'deadLetter after ack',
            );
            await secondSettlementIgnored(() => d.retry(0), 'retry after ack');
          }
        });
        const sent = ctx.envelope();
        const sentinel = ctx.envelope();
        await ctx.publish(t, destination, [sent]);
        await ctx.waitFor(
          () => consumer.received.filter((r) => r.delivery.envelope.id === sent.id).length >= 2,
          'the retried message to come back',
        );
        await ctx.waitForLedger();
        await ctx.publish(t, destination, [sentinel]);
        await ctx.waitForIds(consumer, [sentinel.id], 'the sentinel');
        await ctx.waitForLedger();
        expect(
          consumer.ids().filter((id) => id === sent.id).length,
          'deliveries of the message (1 + 1 retry)',
        ).to.equal(2);
        const dead = await ctx.readDeadLetters(destination, group, 1, 300);
        expect(dead.length, 'dead letters after an ignored deadLetter()').to.equal(0);
      },
    },
    {
      id: 'C2',
      rules: [1, 4],
      title:
        'repeated retries across competing consumers lose nothing: 20 messages retried twice each all end acked',
      async run(ctx) {
        const a = await ctx.transport();
        const b = ctx.capabilities.competingConsumers ? await ctx.transport() : a;
        const { destination, groups } = await ctx.topology(a);
        const group = groups[0] as string;
        const handler = async (d: Delivery): Promise<void> => (d.deliveryAttempt < 3 ? d.retry(0) : d.ack());
        const c1 = await ctx.consume(a, { destination, group, concurrency: 3 }, handler);
        const c2 = b === a ? c1 : await ctx.consume(b, { destination, group, concurrency: 3 }, handler);
        const sent = ctx.envelopes(20);
        await ctx.publish(a, destination, sent);
        await ctx.waitForLedger('all 20 messages acked after two retries each', 10_000);
        expectSameIds(
          receivedIds(c1, c2),
          sent.map((e) => e.id),
          'received set',
        );
        for (const e of sent) {
          const attempts = ctx.ledger.deliveriesOf(group, e.id).map((d) => d.attempt);
          expect(attempts, `attempts of ${e.id}`).to.deep.equal([1, 2, 3]);
        }
      },
    },
    {
      id: 'C3',
      rules: [3],
      title: 'ack is final: after acking, a new subscription of the group receives only the later sentinel',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        const first = await ctx.consume(t, { destination, group, concurrency: 2 });
        const sent = ctx.envelopes(10);
        await ctx.publish(t, destination, sent);
        await ctx.waitForLedger();
        await first.close(1000);
        const second = await ctx.consume(t, { destination, group });
        const sentinel = ctx.envelope();
        await ctx.publish(t, destination, [sentinel]);
        await ctx.waitForIds(second, [sentinel.id], 'the sentinel');
        expect(second.ids(), 'ids received after re-subscribing').to.deep.equal([sentinel.id]);
      },
    },
    {
      id: 'C4',
      rules: [4],
      title: 'deliveryAttempt starts at 1 and increments by exactly one per retry (1, 2, 3, 4)',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string }, async (d) =>
          d.deliveryAttempt < 4 ? d.retry(0) : d.ack(),
        );
        await ctx.publish(t, destination, [ctx.envelope()]);
        await ctx.waitFor(() => consumer.received.length >= 4, 'four attempts');
        await ctx.waitForLedger();
        expect(consumer.received.map((r) => r.delivery.deliveryAttempt)).to.deep.equal([1, 2, 3, 4]);
      },
    },
    {
      id: 'C5',
      rules: [1, 4, 10],
      title:
        'a delivery left unsettled when its subscription closes is redelivered to the next subscription with a higher attempt',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, group, sent, consumer: first, release } = await ctx.holdOneDelivery(t);
        const closed = await within(first.close(ctx.ms(200)), ctx.ms(5_000));
        expect(closed.settled, 'subscription.close(200) must return while a handler is blocked').to.equal(
          true,
        );
        const second = await ctx.consume(t, { destination, group });
        await ctx.expectRedelivery(second, sent.id, 'the redelivery');
        release();
      },
    },
    {
      id: 'C6',
      rules: [1, 6, 10],
      title:
        'a delivery left unsettled when its transport closes is redelivered to another member of the group',
      requires: needs.competingConsumers,
      async run(ctx) {
        const a = await ctx.transport();
        const b = await ctx.transport();
        const { destination, group, sent, release } = await ctx.holdOneDelivery(a, b);
        const second = await ctx.consume(b, { destination, group });
        const closed = await within(a.close(ctx.ms(200)), ctx.ms(5_000));
        expect(closed.settled, 'transport.close(200) must return while a handler is blocked').to.equal(true);
        await ctx.expectRedelivery(second, sent.id, 'the redelivery to the other member', 10_000);
        release();
      },
    },
    {
      id: 'C7',
      rules: [1, 3],
      title: 'a message whose handler is still running is not handed to another group member meanwhile',
      requires: needs.competingConsumers,
      timeoutMs: 20_000,
      async run(ctx) {
        const a = await ctx.transport();
        const b = await ctx.transport();
        const { destination, groups } = await ctx.topology(a);
        const group = groups[0] as string;
        const sent = ctx.envelope();
        let running = 0;
        const handler = async (d: Delivery): Promise<void> => {
          if (d.envelope.id === sent.id) {
            running += 1;
            expect(running, 'the same message running in two members at once').to.equal(1);
            await new Promise((resolve) => setTimeout(resolve, ctx.ms(1_500)));
            running -= 1;
          }
          await d.ack();
        };
        const c1 = await ctx.consume(a, { destination, group, handlerTimeoutMs: ctx.ms(10_000) }, handler);
        const c2 = await ctx.consume(b, { destination, group, handlerTimeoutMs: ctx.ms(10_000) }, handler);
        await ctx.publish(a, destination, [sent]);
        await ctx.waitForLedger('the slow message to be acked', 10_000);
        const sentinel = ctx.envelope();
        await ctx.publish(a, destination, [sentinel]);
        await ctx.waitForIds([c1, c2], [sentinel.id], 'the sentinel');
        expect(
          [...c1.ids(), ...c2.ids()].filter((id) => id === sent.id).length,
          'deliveries of the slow message',
        ).to.equal(1);
      },
    },
    {
      id: 'C9',
      rules: [1, 3, 10],
      title:
        'settling a delivery after its subscription closed rejects with an OmnibusError (ack, retry and deadLetter alike) and the message comes back to the group',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        const held: Delivery[] = [];
        const blocked = gate();
        const first = await ctx.consume(t, { destination, group, concurrency: 3 }, async (d) => {
          held.push(d);
          await blocked.promise;
        });
        const sent = ctx.envelopes(3);
        await ctx.publish(t, destination, sent);
        await ctx.waitForIds(
          first,
          sent.map((e) => e.id),
          'the three deliveries to hold',
        );
        const closed = await within(first.close(ctx.ms(200)), ctx.ms(5_000));
        expect(closed.settled, 'subscription.close(200) must return while handlers are blocked').to.equal(
          true,
        );
        // The transport stays open: only the subscription that received the deliveries is gone.
        // One settlement per delivery (a second one would be ignored, see C1).
        const [a, b, c] = held as [Delivery, Delivery, Delivery];
        await expectOmnibusRejection(a.ack(), 'ack after the subscription closed');
        await expectOmnibusRejection(b.retry(0), 'retry(0) after the subscription closed');
        await expectOmnibusRejection(
          c.deadLetter({ code: 'TEST', message: 'after close', attempts: c.deliveryAttempt }),
          'deadLetter after the subscription closed',
        );
        blocked.open();
        const second = await ctx.consume(t, { destination, group, concurrency: 3 });
        for (const e of sent)
          await ctx.expectRedelivery(second, e.id, `${e.id} after the rejected settlement`, 10_000);
        await ctx.waitForLedger();
        const dead = await ctx.readDeadLetters(destination, group, 1, 300);
        expect(dead.length, 'dead letters after a rejected deadLetter()').to.equal(0);
        expect(second.ids().sort(), 'deliveries after the close: each message once').to.deep.equal(
          sent.map((e) => e.id).sort(),
        );
      },
    },
  ],
};
