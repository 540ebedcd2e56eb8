import {
  ErrorCodes,
  isOmnibusError,
  type BacklogReading,
  type Transport,
  type TransportCapabilities,
} from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import type { CaseContext } from '../support/case-context.js';

const backlog = (c: TransportCapabilities): string | undefined =>
  c.backlog === undefined ? 'capability backlog not declared' : undefined;

function readerOf(transport: Transport): (destination: string, group: string) => Promise<BacklogReading> {
  const read = transport.readBacklog?.bind(transport);
  expect(read, 'transport.readBacklog (the capability backlog is declared)').to.be.a('function');
  return read as (destination: string, group: string) => Promise<BacklogReading>;
}

/**
 * Wait until the group's backlog reads `expected`. Settlement reaches the broker asynchronously
 * (Kafka commits in the background, acks are written after the handler), and approximate counts
 * (SQS) trail the queue, so a reading is polled; the bound is the case's, scaled by `timeScale`.
 */
async function readsUntil(
  ctx: CaseContext,
  read: () => Promise<BacklogReading>,
  expected: number,
  description: string,
): Promise<void> {
  let last: BacklogReading | undefined;
  await ctx.waitFor(
    async () => {
      last = await read();
      return last.messages === expected;
    },
    description,
    15_000,
    () => `last reading ${String(last?.messages)}`,
  );
}

/** Y. Backlog: how many messages wait for a group, read from the broker (optional capability). */
export const backlogCases: ContractCaseGroup = {
  letter: 'Y',
  title: 'backlog (consumer lag, queue depth)',
  cases: [
    {
      id: 'Y1',
      rules: [18],
      title:
        'readBacklog reports N messages published to a group nobody consumes yet (exactly, or once the broker’s approximate count caught up), then 0 once a consumer drained and settled them',
      requires: backlog,
      timeoutMs: 45_000,
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        const capability = t.capabilities.backlog as NonNullable<TransportCapabilities['backlog']>;
        const readBacklog = readerOf(t);
        const read = (): Promise<BacklogReading> => readBacklog(destination, group);
        expect(await read(), 'reading of an empty group').to.deep.equal({
          destination,
          group,
          messages: 0,
          kind: capability.kind,
          approximate: capability.approximate,
        });
        const envelopes = ctx.envelopes(7);
        await ctx.publish(t, destination, envelopes);
        if (capability.approximate)
          await readsUntil(
            ctx,
            read,
            envelopes.length,
            'the approximate backlog to count every published message',
          );
        else expect((await read()).messages, 'backlog right after publish').to.equal(envelopes.length);
        const consumer = await ctx.consume(t, { destination, group, concurrency: 4 });
        await ctx.waitForIds(
          consumer,
          envelopes.map((e) => e.id),
          'every message consumed',
          10_000,
        );
        await ctx.waitForLedger();
        await readsUntil(ctx, read, 0, 'backlog 0 after the drain');
      },
    },
    {
      id: 'Y2',
      rules: [18],
      title:
        'readBacklog of a destination that was never provisioned rejects with BACKLOG_UNAVAILABLE, and a consumer on the same transport keeps receiving',
      requires: backlog,
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        const readBacklog = readerOf(t);
        const consumer = await ctx.consume(t, { destination, group });
        const error: unknown = await readBacklog(ctx.name('missing'), ctx.name('nobody')).then(
          (reading) => reading,
          (e: unknown) => e,
        );
        expect(isOmnibusError(error) ? error.code : error, 'error of a missing destination').to.equal(
          ErrorCodes.BACKLOG_UNAVAILABLE,
        );
        const [envelope] = ctx.envelopes(1);
        await ctx.publish(t, destination, [envelope as NonNullable<typeof envelope>]);
        await ctx.waitForIds(consumer, [envelope?.id ?? ''], 'the consumer still receives', 10_000);
      },
    },
  ],
};
