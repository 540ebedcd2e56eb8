import type { DeadLetteredMessage } from '../contract-options.js';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import { describeBytesDiff, sameBytes } from '../support/test-envelope.js';
import { binaryPayload, needs } from './case-helpers.js';

function expectDeadLetter(
  dead: DeadLetteredMessage | undefined,
  expected: {
    id: string;
    payload: Uint8Array;
    headers: Readonly<Record<string, string>>;
    destination: string;
    group: string;
    code: string;
    message: string;
    attempts: number;
  },
): void {
  expect(dead, 'a dead-lettered message').to.not.equal(undefined);
  if (dead === undefined) return;
  expect(dead.envelope.id, 'dead letter: original id').to.equal(expected.id);
  expect(
    sameBytes(dead.envelope.payload, expected.payload),
    `dead letter: original payload (${describeBytesDiff(expected.payload, dead.envelope.payload)})`,
  ).to.equal(true);
  expect(dead.envelope.headers, 'dead letter: original headers').to.deep.equal(expected.headers);
  expect(dead.info.code, 'dead letter: reason code').to.equal(expected.code);
  expect(dead.info.message, 'dead letter: reason message').to.equal(expected.message);
  expect(dead.info.attempts, 'dead letter: attempts').to.equal(expected.attempts);
  expect(dead.info.destination, 'dead letter: original destination').to.equal(expected.destination);
  expect(dead.info.group, 'dead letter: group').to.equal(expected.group);
  expect(dead.info.at, 'dead letter: time').to.be.instanceOf(Date);
}

/** E. Dead-lettering: content, exactly one copy, replay, per-group isolation. */
export const deadLetterCases: ContractCaseGroup = {
  letter: 'E',
  title: 'dead-letter',
  cases: [
    {
      id: 'E1',
      rules: [5],
      title:
        'deadLetter() moves the message with original payload, headers, reason, attempts, destination and group, readable out of band; it is not redelivered',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        const sent = ctx.envelope({
          payload: binaryPayload(),
          headers: { 'x-original': 'kept', 'x-unicode': 'ünï 😀', 'x-empty': '' },
          correlationId: 'c-e1',
        });
        const sentinel = ctx.envelope();
        const reason = { code: 'HANDLER_FAILED', message: 'boom: ünïcode reason 💥', attempts: 1 };
        const consumer = await ctx.consume(t, { destination, group }, (d) =>
          d.envelope.id === sent.id ? d.deadLetter(reason) : d.ack(),
        );
        await ctx.publish(t, destination, [sent]);
        const dead = await ctx.readDeadLetters(destination, group, 1);
        expect(dead.length, 'dead letters').to.equal(1);
        expectDeadLetter(dead[0], {
          id: sent.id,
          payload: sent.payload,
          headers: sent.headers,
          destination,
          group,
          ...reason,
        });
        expect(dead[0]?.envelope.correlationId).to.equal('c-e1');
        await ctx.publish(t, destination, [sentinel]);
        await ctx.waitForIds(consumer, [sentinel.id], 'the sentinel');
        expect(
          consumer.ids().filter((id) => id === sent.id).length,
          'deliveries of the dead-lettered message',
        ).to.equal(1);
      },
    },
    {
      id: 'E2',
      rules: [4, 5],
      title: 'after two retries the third attempt is dead-lettered exactly once with attempts = 3',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        const sent = ctx.envelope({ headers: { 'x-e2': 'v' } });
        await ctx.consume(t, { destination, group }, (d) =>
          d.deliveryAttempt < 3
            ? d.retry(0)
            : d.deadLetter({ code: 'HANDLER_FAILED', message: 'gave up', attempts: d.deliveryAttempt }),
        );
        await ctx.publish(t, destination, [sent]);
        await ctx.waitForLedger();
        const dead = await ctx.readDeadLetters(destination, group, 1);
        expect(dead.length, 'dead letters').to.equal(1);
        expectDeadLetter(dead[0], {
          id: sent.id,
          payload: sent.payload,
          headers: sent.headers,
          destination,
          group,
          code: 'HANDLER_FAILED',
          message: 'gave up',
          attempts: 3,
        });
        const more = await ctx.readDeadLetters(destination, group, 1, 300);
        expect(more.length, 'further dead-letter copies').to.equal(0);
      },
    },
    {
      id: 'E3',
      rules: [5],
      title: 'a dead-lettered message read back can be replayed to its destination and is handled normally',
      requires: (c) =>
        c.publishDeduplication
          ? 'capability publishDeduplication=true (a replay with the same id is deduplicated)'
          : undefined,
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        const sent = ctx.envelope({ headers: { 'x-replay': 'yes' }, partitionKey: 'replay-key' });
        let dead = true;
        const consumer = await ctx.consume(t, { destination, group }, (d) =>
          dead ? d.deadLetter({ code: 'HANDLER_FAILED', message: 'first time', attempts: 1 }) : d.ack(),
        );
        await ctx.publish(t, destination, [sent]);
        const [letter] = await ctx.readDeadLetters(destination, group, 1);
        expect(letter, 'dead letter').to.not.equal(undefined);
        if (letter === undefined) return;
        dead = false;
        await ctx.publish(t, destination, [letter.envelope]);
        await ctx.waitFor(
          () => consumer.ids().filter((id) => id === sent.id).length >= 2,
          'the replayed message',
        );
        await ctx.waitForLedger();
        const replayed = consumer.received[1]?.delivery.envelope;
        expect(replayed?.headers, 'replayed headers (no dead-letter headers leak)').to.deep.equal(
          sent.headers,
        );
        expect(replayed?.partitionKey).to.equal('replay-key');
      },
    },
    {
      id: 'E4',
      rules: [5, 6],
      title: 'dead-lettering in one group leaves another group unaffected',
      requires: needs.fanOut,
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t, { groups: 2 });
        const [failing, healthy] = groups as [string, string];
        await ctx.consume(t, { destination, group: failing }, (d) =>
          d.deadLetter({ code: 'HANDLER_FAILED', message: 'only here', attempts: 1 }),
        );
        const ok = await ctx.consume(t, { destination, group: healthy });
        const sent = ctx.envelope();
        await ctx.publish(t, destination, [sent]);
        await ctx.waitForLedger();
        const dead = await ctx.readDeadLetters(destination, failing, 1);
        expect(dead.map((d) => d.envelope.id)).to.deep.equal([sent.id]);
        expect(ok.ids()).to.deep.equal([sent.id]);
        const none = await ctx.readDeadLetters(destination, healthy, 1, 300);
        expect(none.length, 'dead letters of the healthy group').to.equal(0);
      },
    },
  ],
};
