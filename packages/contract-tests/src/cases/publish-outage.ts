import { isOmnibusError, type MessageEnvelope } from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import { outcome } from '../support/wait-for.js';

/** One publish issued while the broker restarts: how it ended and how long it took. */
interface OutagePublish {
  readonly envelope: MessageEnvelope;
  readonly ms: number;
  readonly error?: unknown;
}

/**
 * R. Recovery: what a caller sees while the broker is away. Every transport behaves alike: a
 * publish during an outage waits and re-sends until its publish timeout, then rejects with a
 * retriable OmnibusError; it never fails at once, never hangs past its bound, and a publish that
 * resolved was stored.
 */
export const recoveryCases: ContractCaseGroup = {
  letter: 'R',
  title: 'recovery',
  cases: [
    {
      id: 'R1',
      rules: [2, 11],
      title:
        'a publish during a broker restart waits and re-sends within the publish timeout, then rejects with a retriable OmnibusError; resolved publishes are delivered',
      faults: ['restartBroker'],
      requires: (_capabilities, options) =>
        options.publishTimeoutMs === undefined
          ? "option publishTimeoutMs (the transport's configured publish timeout) not given"
          : undefined,
      timeoutMs: 180_000,
      async run(ctx) {
        const restartBroker = ctx.options.faults?.restartBroker?.bind(ctx.options.faults);
        const timeoutMs = ctx.options.publishTimeoutMs;
        if (restartBroker === undefined || timeoutMs === undefined) return;
        const publisher = await ctx.transport();
        const { destination, groups } = await ctx.topology(publisher);
        // An ack in flight when the broker goes down may reject (its receipt, lock or channel is
        // gone, and the broker redelivers the message): tolerated after the fault, if typed.
        const consumer = await ctx.consume(
          await ctx.transport(),
          { destination, group: groups[0] as string, concurrency: 4 },
          async (d) => {
            await d.ack().catch((error: unknown) => {
              if (!ctx.faultsInjected || !isOmnibusError(error)) throw error;
            });
          },
        );
        const warmUp = ctx.envelope();
        await ctx.publish(publisher, destination, [warmUp]);
        await ctx.waitForIds(consumer, [warmUp.id], 'the message published before the restart');

        ctx.markFaultInjected();
        let restarted = false;
        const restart = restartBroker().finally(() => (restarted = true));
        const publishes: OutagePublish[] = [];
        while (!restarted) {
          const envelope = ctx.envelope();
          const t0 = Date.now();
          const result = await outcome(ctx.publish(publisher, destination, [envelope]));
          publishes.push({ envelope, ms: Date.now() - t0, ...(result.ok ? {} : { error: result.error }) });
        }
        await restart;
        const after = ctx.envelope();
        await ctx.publish(publisher, destination, [after]);

        const rejected = publishes.filter((p) => 'error' in p);
        const resolved = publishes.filter((p) => !('error' in p));
        const slowest = Math.max(0, ...publishes.map((p) => p.ms));
        ctx.notes.push(
          `publish timeout ${String(timeoutMs)} ms; during the restart ${String(resolved.length)} publish(es) resolved (slowest ${String(slowest)} ms), ${String(rejected.length)} rejected after ${rejected.map((p) => String(p.ms)).join(', ') || '-'} ms`,
        );
        for (const p of rejected) {
          const error = p.error;
          expect(isOmnibusError(error), `a publish rejection is an OmnibusError: ${String(error)}`).to.equal(
            true,
          );
          if (!isOmnibusError(error)) continue;
          expect(
            error.retriable,
            `a publish rejected during an outage is retriable (${error.code}: ${error.message})`,
          ).to.equal(true);
          // Never at once: it waited (and re-sent) for its publish timeout first. 10 % below the
          // bound allows timer granularity; the upper slack is one request's own timeout.
          expect(
            p.ms,
            `rejected after ${String(p.ms)} ms, before the publish timeout (${error.message})`,
          ).to.be.at.least(timeoutMs * 0.9);
          expect(p.ms, `rejected after ${String(p.ms)} ms, long past the publish timeout`).to.be.at.most(
            timeoutMs + ctx.ms(15_000),
          );
        }
        // Rejected publishes may or may not have been stored (at-least-once); resolved ones must arrive.
        await ctx.waitForIds(
          consumer,
          [...resolved.map((p) => p.envelope.id), after.id],
          'publishes that resolved during and after the restart',
          60_000,
        );
      },
    },
  ],
};
