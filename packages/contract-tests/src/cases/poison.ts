import type { Delivery } from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import { describeBytesDiff, sameBytes } from '../support/test-envelope.js';

/** L. Poison and foreign messages. */
export const poisonCases: ContractCaseGroup = {
  letter: 'L',
  title: 'poison and foreign messages',
  cases: [
    {
      id: 'L1',
      rules: [12],
      title:
        'a foreign message (raw bytes, no envelope) is handed over with type "" and can be dead-lettered with a reason readable out of band; the consumer keeps going',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        const body =
          ctx.options.foreignBodies === 'text'
            ? new TextEncoder().encode('{not jsön ✗')
            : new Uint8Array([0x7b, 0x6e, 0x6f, 0x74, 0xff, 0x00, 0x6a, 0x73, 0x6f, 0x6e]);
        ctx.ledger.acceptForeign((d) => d.envelope.type === '');
        const foreign: Delivery[] = [];
        const consumer = await ctx.consume(t, { destination, group }, async (d) => {
          if (d.envelope.type === '') {
            foreign.push(d);
            await d.deadLetter({
              code: 'UNKNOWN_EVENT_TYPE',
              message: 'foreign message without an Omnibus envelope',
              attempts: d.deliveryAttempt,
            });
          } else {
            await d.ack();
          }
        });
        await ctx.options.publishForeign(destination, body, { 'x-foreign': 'yes' });
        const after = ctx.envelope();
        await ctx.publish(t, destination, [after]);
        await ctx.waitFor(() => foreign.length >= 1, 'the foreign message');
        await ctx.waitForIds(consumer, [after.id], 'a regular message after the foreign one');
        const got = foreign[0] as Delivery;
        expect(got.envelope.id, 'a foreign message still gets a non-empty id')
          .to.be.a('string')
          .and.not.equal('');
        expect(
          sameBytes(got.envelope.payload, body),
          `foreign payload: ${describeBytesDiff(body, got.envelope.payload)}`,
        ).to.equal(true);
        expect(got.envelope.headers['x-foreign'], 'foreign raw header').to.equal('yes');
        const dead = await ctx.readDeadLetters(destination, group, 1);
        expect(dead.length, 'dead letters').to.equal(1);
        expect(dead[0]?.info.code).to.equal('UNKNOWN_EVENT_TYPE');
        expect(dead[0]?.info.message).to.equal('foreign message without an Omnibus envelope');
        expect(dead[0]?.info.destination).to.equal(destination);
        expect(
          sameBytes(dead[0]?.envelope.payload ?? new Uint8Array(), body),
          'dead-lettered foreign payload',
        ).to.equal(true);
      },
    },
    {
      id: 'L3',
      rules: [9, 12, 15],
      title:
        'header values a foreign producer sends as numbers or booleans arrive as their text (42 → "42", 0.5 → "0.5", true → "true"), never dropped',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        ctx.ledger.acceptForeign((d) => d.envelope.type === '');
        const foreign: Delivery[] = [];
        await ctx.consume(t, { destination, group }, async (d) => {
          if (d.envelope.type === '') foreign.push(d);
          await d.ack();
        });
        await ctx.options.publishForeign(destination, new TextEncoder().encode('{"foreign":true}'), {
          'x-count': 42,
          'x-ratio': 0.5,
          'x-negative': -7,
          'x-flag': true,
          'x-off': false,
          'x-text': 'plain',
        });
        await ctx.waitFor(() => foreign.length >= 1, 'the foreign message');
        expect((foreign[0] as Delivery).envelope.headers).to.include({
          'x-count': '42',
          'x-ratio': '0.5',
          'x-negative': '-7',
          'x-flag': 'true',
          'x-off': 'false',
          'x-text': 'plain',
        });
      },
    },
    {
      id: 'L2',
      rules: [4, 5, 12],
      title:
        'an always-failing message does not block the queue: 10 later messages are acked while it is retried, then it is dead-lettered',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        const poison = ctx.envelope();
        const healthy = ctx.envelopes(10);
        let healthyAcked = 0;
        let healthyAckedBeforeDeadLetter = -1;
        await ctx.consume(t, { destination, group, concurrency: 2 }, async (d) => {
          if (d.envelope.id !== poison.id) {
            await d.ack();
            healthyAcked += 1;
            return;
          }
          if (d.deliveryAttempt < 4) {
            await d.retry(100);
            return;
          }
          healthyAckedBeforeDeadLetter = healthyAcked;
          await d.deadLetter({
            code: 'HANDLER_FAILED',
            message: 'always fails',
            attempts: d.deliveryAttempt,
          });
        });
        await ctx.publish(t, destination, [poison]);
        await ctx.publish(t, destination, healthy);
        await ctx.waitForLedger('every message to be settled', 10_000);
        expect(
          healthyAckedBeforeDeadLetter,
          'healthy messages acked while the poison message was still being retried',
        ).to.equal(10);
        const dead = await ctx.readDeadLetters(destination, group, 1);
        expect(dead.map((d) => [d.envelope.id, d.info.attempts])).to.deep.equal([[poison.id, 4]]);
      },
    },
  ],
};
