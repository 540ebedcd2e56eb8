import { isOmnibusError, type Delivery, type MessageEnvelope, type Transport } from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import type { CaseContext } from '../support/case-context.js';
import { gate, outcome, within } from '../support/wait-for.js';
import { needs } from './case-helpers.js';

/**
 * Publish one message at a time until `until` settles; each publish either resolves (confirmed,
 * must be delivered) or rejects with an OmnibusError (unconfirmed, may or may not arrive).
 */
async function publishDuring(
  ctx: CaseContext,
  t: Transport,
  destination: string,
  until: Promise<unknown>,
): Promise<{ confirmed: MessageEnvelope[]; rejected: number; nonOmnibus: unknown[] }> {
  let done = false;
  void until.then(
    () => (done = true),
    () => (done = true),
  );
  const confirmed: MessageEnvelope[] = [];
  const nonOmnibus: unknown[] = [];
  let rejected = 0;
  while (!done) {
    const envelope = ctx.envelope();
    const result = await outcome(ctx.publish(t, destination, [envelope]));
    if (result.ok) confirmed.push(envelope);
    else {
      rejected += 1;
      if (!isOmnibusError(result.error)) nonOmnibus.push(result.error);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  return { confirmed, rejected, nonOmnibus };
}

/** J. Reconnect after broker restarts and dropped connections. */
export const reconnectCases: ContractCaseGroup = {
  letter: 'J',
  title: 'reconnect',
  cases: [
    {
      id: 'J1',
      rules: [2, 11],
      title:
        'after a broker restart, publishing and consuming resume on the same transports; confirmed messages are not lost',
      faults: ['restartBroker'],
      timeoutMs: 120_000,
      async run(ctx) {
        const restartBroker = ctx.options.faults?.restartBroker?.bind(ctx.options.faults);
        if (restartBroker === undefined) return;
        const publisher = await ctx.transport();
        const consumerTransport = await ctx.transport();
        const fanOut = ctx.capabilities.fanOut;
        const { destination, groups } = await ctx.topology(publisher, { groups: fanOut ? 2 : 1 });
        const liveGroup = groups[0] as string;
        // Without fan-out a destination has one group: a second destination stands in for the group without a consumer.
        const held = fanOut
          ? { destination, group: groups[1] as string }
          : await ctx
              .topology(publisher)
              .then((tp) => ({ destination: tp.destination, group: tp.groups[0] as string }));
        let staleAcks = 0;
        // An ack in flight when the broker goes down may reject (its lock or channel is gone; the
        // broker redelivers the message, as J3 allows): tolerated after the fault, if it is an OmnibusError.
        const live = await ctx.consume(
          consumerTransport,
          { destination, group: liveGroup, concurrency: 2 },
          async (d) => {
            await d.ack().catch((error: unknown) => {
              if (!ctx.faultsInjected || !isOmnibusError(error)) throw error;
              staleAcks += 1;
            });
          },
        );
        const before = ctx.envelopes(10);
        await ctx.publish(publisher, destination, before);
        const heldBefore = fanOut ? [] : ctx.envelopes(10);
        if (!fanOut) await ctx.publish(publisher, held.destination, heldBefore);
        await ctx.waitForIds(
          live,
          before.map((e) => e.id),
          'pre-restart messages on the live group',
        );
        ctx.markFaultInjected();
        const restart = restartBroker();
        const during = await publishDuring(ctx, publisher, destination, restart);
        await restart;
        expect(
          during.nonOmnibus,
          'publish rejections during the restart that are not OmnibusErrors',
        ).to.deep.equal([]);
        const after = ctx.envelopes(10);
        await ctx.publish(publisher, destination, after);
        if (!ctx.capabilities.survivesBrokerRestart)
          ctx.ledger.allowLoss([...before, ...during.confirmed, ...heldBefore].map((e) => e.id));
        const late = await ctx.consume(await ctx.transport(), {
          destination: held.destination,
          group: held.group,
          concurrency: 2,
        });
        const heldAcross = fanOut ? [...before, ...during.confirmed, ...after] : heldBefore;
        const mustArrive = ctx.capabilities.survivesBrokerRestart ? heldAcross : fanOut ? after : [];
        await ctx.waitForIds(
          live,
          [...during.confirmed, ...after].map((e) => e.id),
          'the live subscription to resume without re-subscribing',
          60_000,
        );
        await ctx.waitForIds(
          late,
          mustArrive.map((e) => e.id),
          'messages held across the restart by the group without a consumer',
          30_000,
        );
        ctx.notes.push(
          `publishes during restart: ${String(during.confirmed.length)} confirmed, ${String(during.rejected)} rejected; ${String(staleAcks)} stale ack(s) rejected`,
        );
      },
    },
    {
      id: 'J2',
      rules: [1, 11],
      title: 'after dropped connections, consumption resumes and nothing confirmed or acked is lost',
      faults: ['dropConnections'],
      timeoutMs: 60_000,
      async run(ctx) {
        const dropConnections = ctx.options.faults?.dropConnections?.bind(ctx.options.faults);
        if (dropConnections === undefined) return;
        const publisher = await ctx.transport();
        const consumerTransport = await ctx.transport();
        const { destination, groups } = await ctx.topology(publisher);
        const consumer = await ctx.consume(
          consumerTransport,
          { destination, group: groups[0] as string, concurrency: 3 },
          async (d) => {
            await new Promise((resolve) => setTimeout(resolve, 2));
            // An ack racing the dropped connection may be refused (the message is then redelivered);
            // it must be refused with an OmnibusError.
            await d.ack().catch((error: unknown) => {
              if (!isOmnibusError(error)) throw error;
            });
          },
        );
        const first = ctx.envelopes(30);
        await ctx.publish(publisher, destination, first);
        await ctx.waitFor(() => consumer.received.length >= 5, 'a few deliveries before the fault');
        ctx.markFaultInjected();
        const drop = dropConnections();
        const during = await publishDuring(ctx, publisher, destination, drop);
        await drop;
        const second = ctx.envelopes(20);
        await ctx.publish(publisher, destination, second);
        await ctx.waitForIds(
          consumer,
          [...first, ...during.confirmed, ...second].map((e) => e.id),
          'every confirmed message after the reconnect',
          30_000,
        );
        await ctx.waitForLedger('every confirmed message to be acked', 30_000);
        await ctx.waitFor(
          () => consumerTransport.status === 'ready' && publisher.status === 'ready',
          'both transports to report ready again',
          30_000,
        );
        ctx.notes.push(
          `publishes while connections dropped: ${String(during.confirmed.length)} confirmed, ${String(during.rejected)} rejected`,
        );
      },
    },
    {
      id: 'J3',
      rules: [1, 3, 11],
      title:
        'settling a delivery received before the connection dropped neither hangs nor crashes; the outcome is consistent',
      faults: ['dropConnections'],
      timeoutMs: 60_000,
      async run(ctx) {
        const dropConnections = ctx.options.faults?.dropConnections?.bind(ctx.options.faults);
        if (dropConnections === undefined) return;
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const hold = gate();
        const held: Delivery[] = [];
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string }, async (d) => {
          if (held.length === 0) {
            held.push(d);
            await hold.promise;
            return;
          }
          await d.ack();
        });
        const sent = ctx.envelope();
        await ctx.publish(t, destination, [sent]);
        await ctx.waitForIds(consumer, [sent.id], 'the first delivery');
        ctx.markFaultInjected();
        await dropConnections();
        const settled = await within(outcome((held[0] as Delivery).ack()), ctx.ms(15_000));
        hold.open();
        expect(
          settled.settled,
          'ack of a delivery from a dropped connection must settle (resolve or reject), not hang',
        ).to.equal(true);
        if (!settled.settled) return;
        if (!settled.value.ok) {
          expect(
            isOmnibusError(settled.value.error),
            `a failed stale ack must reject with an OmnibusError, got ${String(settled.value.error)}`,
          ).to.equal(true);
          await ctx.waitFor(
            () => consumer.ids().filter((id) => id === sent.id).length >= 2,
            'the redelivery after the failed stale ack',
            30_000,
          );
        }
        await ctx.waitForLedger('the message to end acked', 30_000);
        ctx.notes.push(settled.value.ok ? 'stale ack resolved' : 'stale ack rejected; message redelivered');
      },
    },
    {
      id: 'J4',
      rules: [4, 11],
      title:
        'delivery attempts continue across a broker restart: messages retried before it come back with the next attempt number, and messages held unsettled through it come back with a higher one',
      faults: ['restartBroker'],
      requires: needs.survivesBrokerRestart,
      timeoutMs: 150_000,
      async run(ctx) {
        const restartBroker = ctx.options.faults?.restartBroker?.bind(ctx.options.faults);
        if (restartBroker === undefined) return;
        const t = await ctx.transport();
        const retriedTopology = await ctx.topology(t);
        const heldTopology = await ctx.topology(t);
        const retriedGroup = retriedTopology.groups[0] as string;
        const heldGroup = heldTopology.groups[0] as string;
        const retried = ctx.envelopes(8);
        const held = ctx.envelopes(4);
        // Retried: every attempt asks for a retry after a delay, until the subscription closes.
        const retrying = await ctx.consume(
          t,
          { destination: retriedTopology.destination, group: retriedGroup, concurrency: retried.length },
          (d) => d.retry(ctx.ms(1_000)),
        );
        const retriedOnce = (): boolean =>
          retried.every((e) =>
            ctx.ledger.deliveriesOf(retriedGroup, e.id).some((d) => d.outcome === 'retry'),
          );
        await ctx.publish(t, retriedTopology.destination, retried);
        await ctx.waitFor(retriedOnce, 'every message retried once', 15_000);
        await retrying.close(ctx.ms(5_000));
        // Held: the first attempt of each stays in its handler, unsettled, through the restart.
        const release = gate();
        let staleSettlements = 0;
        await ctx.consume(
          t,
          { destination: heldTopology.destination, group: heldGroup, concurrency: held.length },
          async (d) => {
            if (d.deliveryAttempt === 1 && !release.isOpen()) await release.promise;
            await d.ack().catch((error: unknown) => {
              if (!ctx.faultsInjected || !isOmnibusError(error)) throw error;
              staleSettlements += 1;
            });
          },
        );
        await ctx.publish(t, heldTopology.destination, held);
        await ctx.waitFor(
          () => held.every((e) => ctx.ledger.deliveriesOf(heldGroup, e.id).length > 0),
          'every held message in a handler',
          15_000,
        );
        const before = new Map(
          retried.map((e) => [e.id, ctx.ledger.deliveriesOf(retriedGroup, e.id).map((d) => d.attempt)]),
        );
        ctx.markFaultInjected();
        await restartBroker();
        release.open();
        await ctx.consume(await ctx.transport(), {
          destination: retriedTopology.destination,
          group: retriedGroup,
          concurrency: 4,
        });
        await ctx.waitForLedger('every message acked after the restart', 60_000);
        for (const e of retried) {
          const attempts = ctx.ledger.deliveriesOf(retriedGroup, e.id).map((d) => d.attempt);
          const earlier = before.get(e.id) ?? [];
          expect(
            attempts,
            `attempts of retried message ${e.id} (${String(earlier.length)} before the restart): one more per delivery`,
          ).to.deep.equal(attempts.map((_, i) => i + 1));
        }
        for (const e of held) {
          const attempts = ctx.ledger.deliveriesOf(heldGroup, e.id).map((d) => d.attempt);
          expect(attempts[0], `first attempt of held message ${e.id}`).to.equal(1);
          attempts.forEach((attempt, i) => {
            if (i > 0)
              expect(
                attempt,
                `attempts of held message ${e.id} (${attempts.join(', ')}) increase across the restart`,
              ).to.be.greaterThan(attempts[i - 1] as number);
          });
        }
        ctx.notes.push(
          `retried messages' attempts before the restart: ${[...before.values()].map((a) => a.length).join(', ')}; stale settlements rejected: ${String(staleSettlements)}; held messages' attempts: ${held
            .map((e) =>
              ctx.ledger
                .deliveriesOf(heldGroup, e.id)
                .map((d) => d.attempt)
                .join('/'),
            )
            .join(', ')}`,
        );
      },
    },
  ],
};
