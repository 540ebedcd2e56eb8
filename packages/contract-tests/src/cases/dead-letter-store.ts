import {
  LOOP_GUARD,
  REPLAY_COUNT_HEADER,
  REPLAYED_AT_HEADER,
  type DeadLetterQuery,
  type DeadLetterRecord,
  type DeadLetterStore,
  type Transport,
  type TransportCapabilities,
} from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import type { CaseContext } from '../support/case-context.js';
import { sameBytes } from '../support/test-envelope.js';

/** Header the cases' handlers read to pick the dead-letter reason code. */
const CODE_HEADER = 'x-dl-code';

const deadLetterStore = (c: TransportCapabilities): string | undefined =>
  c.deadLetterStore === true ? undefined : 'capability deadLetterStore not declared';

function storeOf(transport: Transport): DeadLetterStore {
  const store = transport.deadLetters;
  expect(store, 'transport.deadLetters (the capability deadLetterStore is declared)').to.not.equal(undefined);
  return store as DeadLetterStore;
}

/** Poll `list` until it returns exactly `count` records (dead-lettering is asynchronous on some brokers). */
async function listed(
  ctx: CaseContext,
  store: DeadLetterStore,
  query: DeadLetterQuery,
  count: number,
): Promise<DeadLetterRecord[]> {
  let last: DeadLetterRecord[] = [];
  await ctx.waitFor(
    async () => {
      last = await store.list(query);
      return last.length === count;
    },
    `${String(count)} dead letter(s) listed in ${query.group}`,
    10_000,
    () => `listed ${String(last.length)}: ${last.map((r) => r.envelope.id).join(', ')}`,
  );
  return last;
}

const ids = (
  records: readonly ({ readonly envelope: { readonly id: string } } | { readonly id: string })[],
): string[] => records.map((r) => ('envelope' in r ? r.envelope.id : r.id)).sort();

/** Dead-letter every delivery with the code carried in {@link CODE_HEADER}. */
async function deadLetterAll(
  ctx: CaseContext,
): Promise<{ t: Transport; destination: string; group: string }> {
  const t = await ctx.transport();
  const { destination, groups } = await ctx.topology(t);
  const group = groups[0] as string;
  await ctx.consume(t, { destination, group }, (d) =>
    d.deadLetter({
      code: d.envelope.headers[CODE_HEADER] ?? 'HANDLER_FAILED',
      message: `failed ${d.envelope.id}`,
      attempts: d.deliveryAttempt,
    }),
  );
  return { t, destination, group };
}

/** Q. The dead-letter store (`transport.deadLetters`): browse, replay with a loop guard, purge. */
export const deadLetterStoreCases: ContractCaseGroup = {
  letter: 'Q',
  title: 'dead-letter store (browse, replay, purge)',
  cases: [
    {
      id: 'Q1',
      rules: [5, 17],
      title:
        'deadLetters.list browses a group’s dead letters (original id, payload, headers, reason) filtered by code, type, id, time and limit, without removing them',
      requires: deadLetterStore,
      async run(ctx) {
        const { t, destination, group } = await deadLetterAll(ctx);
        const store = storeOf(t);
        const a = ctx.envelope({ type: 'q1.first', headers: { [CODE_HEADER]: 'CODE_A', 'x-keep': 'ü 1' } });
        const b = ctx.envelope({ type: 'q1.second', headers: { [CODE_HEADER]: 'CODE_B' } });
        const c = ctx.envelope({ type: 'q1.first', headers: { [CODE_HEADER]: 'CODE_B' }, partitionKey: 'k' });
        const before = new Date(Date.now() - 1_000);
        await ctx.publish(t, destination, [a, b, c]);
        await ctx.waitForLedger();
        const query = { destination, group };
        const all = await listed(ctx, store, query, 3);
        expect(ids(all)).to.deep.equal(ids([a, b, c]));
        for (const sent of [a, b, c]) {
          const record = all.find((r) => r.envelope.id === sent.id) as DeadLetterRecord;
          expect(sameBytes(record.envelope.payload, sent.payload), `payload of ${sent.id}`).to.equal(true);
          expect(record.envelope.headers, `headers of ${sent.id}`).to.deep.equal(sent.headers);
          expect(record.envelope.type).to.equal(sent.type);
          expect(record.info.code).to.equal(sent.headers[CODE_HEADER]);
          expect(record.info.message).to.equal(`failed ${sent.id}`);
          expect(record.info.destination).to.equal(destination);
          expect(record.info.group).to.equal(group);
          expect(record.info.at.getTime(), 'dead-letter time').to.be.greaterThanOrEqual(before.getTime());
          expect(record.replayCount).to.equal(0);
        }
        expect(ids(await store.list({ ...query, codes: ['CODE_A'] })), 'code filter').to.deep.equal([a.id]);
        expect(ids(await store.list({ ...query, types: ['q1.second'] })), 'type filter').to.deep.equal([
          b.id,
        ]);
        expect(ids(await store.list({ ...query, ids: [c.id] })), 'id filter').to.deep.equal([c.id]);
        expect(
          ids(await store.list({ ...query, codes: ['CODE_B'], types: ['q1.first'] })),
          'code and type filters together',
        ).to.deep.equal([c.id]);
        expect(await store.list({ ...query, since: new Date(Date.now() + 60_000) }), 'since').to.have.length(
          0,
        );
        expect(await store.list({ ...query, until: before }), 'until').to.have.length(0);
        expect(await store.list({ ...query, since: before }), 'since before').to.have.length(3);
        expect(await store.list({ ...query, limit: 2 }), 'limit').to.have.length(2);
        expect(ids(await store.list(query)), 'listing removed nothing').to.deep.equal(ids(all));
        const native = await ctx.readDeadLetters(destination, group, 3);
        expect(ids(native), 'still in the native dead-letter destination').to.deep.equal(ids(all));
      },
    },
    {
      id: 'Q2',
      rules: [5, 6, 17],
      title:
        'deadLetters.replay sends matches back to the dead-lettering group only, with original id, payload and headers plus a replay count; they are handled and leave the dead-letter destination',
      requires: deadLetterStore,
      timeoutMs: 30_000,
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t, { groups: ctx.capabilities.fanOut ? 2 : 1 });
        const [failing, healthy] = groups as [string, string | undefined];
        const failingConsumer = await ctx.consume(t, { destination, group: failing }, (d) =>
          d.envelope.headers[REPLAY_COUNT_HEADER] === undefined
            ? d.deadLetter({ code: 'HANDLER_FAILED', message: 'first time', attempts: 1 })
            : d.ack(),
        );
        const healthyConsumer =
          healthy === undefined ? undefined : await ctx.consume(t, { destination, group: healthy });
        const sent = [
          ctx.envelope({ headers: { 'x-replay': 'one', 'x-empty': '' }, partitionKey: 'q2-key' }),
          ctx.envelope({ headers: { 'x-replay': 'two' }, correlationId: 'q2-correlation' }),
        ];
        await ctx.publish(t, destination, sent);
        await ctx.waitForLedger();
        const store = storeOf(t);
        await listed(ctx, store, { destination, group: failing }, 2);
        for (const envelope of sent) ctx.ledger.expectReplay(failing, envelope.id);
        const progress: number[] = [];
        const result = await store.replay(
          { destination, group: failing },
          { onProgress: (done) => progress.push(done) },
        );
        expect(ids(result.replayed), 'replayed').to.deep.equal(ids(sent));
        expect(result.skipped, 'skipped').to.have.length(0);
        expect(progress, 'progress callbacks').to.deep.equal([1, 2]);
        await ctx.waitFor(
          () => sent.every((s) => failingConsumer.ids().filter((id) => id === s.id).length === 2),
          'both replays handled by the dead-lettering group',
          10_000,
        );
        await ctx.waitForLedger();
        for (const original of sent) {
          const replay = failingConsumer.received.filter((r) => r.delivery.envelope.id === original.id)[1]
            ?.delivery.envelope;
          expect(replay, `replay of ${original.id}`).to.not.equal(undefined);
          if (replay === undefined) continue;
          expect(sameBytes(replay.payload, original.payload), 'replayed payload').to.equal(true);
          expect(replay.type).to.equal(original.type);
          expect(replay.partitionKey).to.equal(original.partitionKey);
          expect(replay.correlationId).to.equal(original.correlationId);
          const { [REPLAYED_AT_HEADER]: replayedAt, ...rest } = replay.headers;
          expect(rest, 'replayed headers: the original ones plus the replay count').to.deep.equal({
            ...original.headers,
            [REPLAY_COUNT_HEADER]: '1',
          });
          expect(Number.isNaN(Date.parse(replayedAt ?? '')), `${REPLAYED_AT_HEADER} is a time`).to.equal(
            false,
          );
        }
        expect(await store.list({ destination, group: failing }), 'dead letters after replay').to.have.length(
          0,
        );
        if (healthy !== undefined && healthyConsumer !== undefined) {
          const sentinel = ctx.envelope();
          await ctx.publish(t, destination, [sentinel]);
          await ctx.waitForIds(healthyConsumer, [sentinel.id], 'the sentinel in the healthy group');
          for (const s of sent)
            expect(
              healthyConsumer.ids().filter((id) => id === s.id),
              'the other group does not receive the replay',
            ).to.have.length(1);
        }
      },
    },
    {
      id: 'Q3',
      rules: [5, 17],
      title:
        'loop guard: a replayed message dead-lettered again is not replayed again unless asked (includeReplayed), and its replay count goes on',
      requires: deadLetterStore,
      timeoutMs: 30_000,
      async run(ctx) {
        const { t, destination, group } = await deadLetterAll(ctx);
        const store = storeOf(t);
        const sent = ctx.envelope();
        await ctx.publish(t, destination, [sent]);
        await ctx.waitForLedger();
        const query = { destination, group };
        await listed(ctx, store, query, 1);
        ctx.ledger.expectReplay(group, sent.id);
        expect(ids((await store.replay(query)).replayed), 'first replay').to.deep.equal([sent.id]);
        await ctx.waitForLedger('the replay to be dead-lettered again');
        const [again] = await listed(ctx, store, query, 1);
        expect(again?.replayCount, 'replay count of the dead letter').to.equal(1);
        const guarded = await store.replay(query);
        expect(guarded.replayed, 'replayed by the second replay').to.have.length(0);
        expect(
          guarded.skipped.map((s) => [s.record.envelope.id, s.reason]),
          'kept back by the loop guard',
        ).to.deep.equal([[sent.id, LOOP_GUARD]]);
        expect(ids(await store.list(query)), 'still dead-lettered').to.deep.equal([sent.id]);
        ctx.ledger.expectReplay(group, sent.id);
        const forced = await store.replay(query, { includeReplayed: true });
        expect(ids(forced.replayed), 'replayed with includeReplayed').to.deep.equal([sent.id]);
        await ctx.waitForLedger('the forced replay to be dead-lettered again');
        const [third] = await listed(ctx, store, query, 1);
        expect(third?.replayCount, 'replay count after the forced replay').to.equal(2);
        expect((await store.purge(query)).purged, 'cleanup').to.have.length(1);
      },
    },
    {
      id: 'Q4',
      rules: [5, 17],
      title:
        'deadLetters.purge removes only the matches for good; dry runs of purge and replay change nothing',
      requires: deadLetterStore,
      async run(ctx) {
        const { t, destination, group } = await deadLetterAll(ctx);
        const store = storeOf(t);
        const a = ctx.envelope({ headers: { [CODE_HEADER]: 'CODE_A' } });
        const b = ctx.envelope({ headers: { [CODE_HEADER]: 'CODE_B' } });
        const c = ctx.envelope({ headers: { [CODE_HEADER]: 'CODE_B' } });
        await ctx.publish(t, destination, [a, b, c]);
        await ctx.waitForLedger();
        const query = { destination, group };
        await listed(ctx, store, query, 3);
        const dry = await store.purge({ ...query, codes: ['CODE_B'] }, { dryRun: true });
        expect(ids(dry.purged), 'dry-run purge').to.deep.equal(ids([b, c]));
        const dryReplay = await store.replay(query, { dryRun: true });
        expect(ids(dryReplay.replayed), 'dry-run replay').to.deep.equal(ids([a, b, c]));
        expect(await store.list(query), 'after the dry runs').to.have.length(3);
        const purged = await store.purge({ ...query, codes: ['CODE_B'] });
        expect(ids(purged.purged), 'purged').to.deep.equal(ids([b, c]));
        expect(ids(await store.list(query)), 'left after purge').to.deep.equal([a.id]);
        expect(ids((await store.purge(query)).purged), 'purge the rest').to.deep.equal([a.id]);
        expect(await store.list(query), 'empty').to.have.length(0);
        const none = await ctx.readDeadLetters(destination, group, 1, 300);
        expect(none, 'native dead-letter destination after purge').to.have.length(0);
      },
    },
  ],
};
