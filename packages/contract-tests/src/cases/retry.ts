import { performance } from 'node:perf_hooks';
import { ErrorCodes } from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import { expectOmnibusRejection } from './case-helpers.js';

/** Timer and clock granularity allowed below a lower bound, in ms. */
export const CLOCK_TOLERANCE_MS = 2;

/** Generous upper bound slack over a requested delay (emulated delay tiers, slow CI), before timeScale. */
export const DELAY_UPPER_SLACK_MS = 5_000;

/** D. Retry with backoff: lower bounds, attempt counting, delay range. */
export const retryCases: ContractCaseGroup = {
  letter: 'D',
  title: 'retry with backoff',
  cases: [
    {
      id: 'D1',
      rules: [4],
      title: 'a retry is not redelivered before its delay (400 ms) and arrives within a generous upper bound',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const delay = 400;
        let retriedAt = 0;
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string }, async (d) => {
          if (d.deliveryAttempt === 1) {
            retriedAt = performance.now();
            await d.retry(delay);
          } else {
            await d.ack();
          }
        });
        await ctx.publish(t, destination, [ctx.envelope()]);
        await ctx.waitFor(() => consumer.received.length >= 2, 'the retry', delay + DELAY_UPPER_SLACK_MS);
        const gap = (consumer.received[1]?.at ?? 0) - retriedAt;
        expect(gap, `redelivered ${gap.toFixed(1)} ms after retry(${String(delay)})`).to.be.at.least(
          delay - CLOCK_TOLERANCE_MS,
        );
        expect(gap, 'upper bound').to.be.at.most(delay + ctx.ms(DELAY_UPPER_SLACK_MS));
        expect(consumer.received[1]?.delivery.deliveryAttempt).to.equal(2);
      },
    },
    {
      id: 'D2',
      rules: [4],
      title: 'an exponential backoff (100, 200, 400 ms) is honoured at every step with attempts 1, 2, 3, 4',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const delays = [100, 200, 400];
        const retriedAt: number[] = [];
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string }, async (d) => {
          const delay = delays[d.deliveryAttempt - 1];
          if (delay === undefined) {
            await d.ack();
            return;
          }
          retriedAt.push(performance.now());
          await d.retry(delay);
        });
        await ctx.publish(t, destination, [ctx.envelope()]);
        await ctx.waitFor(
          () => consumer.received.length >= 4,
          'four attempts',
          700 + 3 * DELAY_UPPER_SLACK_MS,
        );
        await ctx.waitForLedger();
        expect(consumer.received.map((r) => r.delivery.deliveryAttempt)).to.deep.equal([1, 2, 3, 4]);
        delays.forEach((delay, i) => {
          const gap = (consumer.received[i + 1]?.at ?? 0) - (retriedAt[i] ?? 0);
          expect(
            gap,
            `attempt ${String(i + 2)} came ${gap.toFixed(1)} ms after retry(${String(delay)})`,
          ).to.be.at.least(delay - CLOCK_TOLERANCE_MS);
          expect(gap, `attempt ${String(i + 2)} upper bound`).to.be.at.most(
            delay + ctx.ms(DELAY_UPPER_SLACK_MS),
          );
        });
      },
    },
    {
      id: 'D3',
      rules: [4],
      title:
        'a retry delay above maxRetryDelayMs is rejected with DELAY_OUT_OF_RANGE (never shortened) and the delivery stays settleable',
      requires: (c) =>
        c.maxRetryDelayMs >= Number.MAX_SAFE_INTEGER ? 'capability maxRetryDelayMs is unbounded' : undefined,
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const tooLong = ctx.capabilities.maxRetryDelayMs + 1;
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string }, async (d) => {
          await expectOmnibusRejection(
            d.retry(tooLong),
            `retry(${String(tooLong)})`,
            ErrorCodes.DELAY_OUT_OF_RANGE,
          );
          await d.ack();
        });
        await ctx.publish(t, destination, [ctx.envelope()]);
        await ctx.waitForLedger();
        expect(consumer.received.length).to.equal(1);
      },
    },
  ],
};
