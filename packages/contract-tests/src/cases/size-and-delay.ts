import { performance } from 'node:perf_hooks';
import { ErrorCodes } from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import { describeBytesDiff, sameBytes } from '../support/test-envelope.js';
import { expectOmnibusRejection, needs } from './case-helpers.js';
import { CLOCK_TOLERANCE_MS, DELAY_UPPER_SLACK_MS } from './retry.js';

/** Payload limits above this are not exercised (memory, time); the case is skipped with a reason. */
const LARGEST_TESTED_PAYLOAD = 64 * 1024 * 1024;

function payloadOf(size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  for (let i = 0; i < size; i += 1) bytes[i] = (i * 31 + 7) & 0xff;
  return bytes;
}

const testablePayloadLimit = (c: { maxPayloadBytes: number }): string | undefined =>
  c.maxPayloadBytes > LARGEST_TESTED_PAYLOAD
    ? `capability maxPayloadBytes=${String(c.maxPayloadBytes)} is above the tested ${String(LARGEST_TESTED_PAYLOAD)}`
    : undefined;

/** M. Payload size boundary. */
export const sizeCases: ContractCaseGroup = {
  letter: 'M',
  title: 'payload size limits',
  cases: [
    {
      id: 'M1',
      rules: [12],
      title: 'a payload of exactly maxPayloadBytes is delivered intact',
      requires: testablePayloadLimit,
      timeoutMs: 30_000,
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string });
        const sent = ctx.envelope({
          payload: payloadOf(ctx.capabilities.maxPayloadBytes),
          contentType: 'application/octet-stream',
        });
        await ctx.publish(t, destination, [sent]);
        await ctx.waitForIds(consumer, [sent.id], 'the largest allowed message', 15_000);
        const got = consumer.received[0]?.delivery.envelope.payload ?? new Uint8Array();
        expect(sameBytes(got, sent.payload), `payload: ${describeBytesDiff(sent.payload, got)}`).to.equal(
          true,
        );
      },
    },
    {
      id: 'M2',
      rules: [2, 12],
      title:
        'a payload one byte over maxPayloadBytes is rejected at publish with PAYLOAD_TOO_LARGE and never delivered',
      requires: testablePayloadLimit,
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string });
        const tooBig = ctx.envelope({
          payload: payloadOf(ctx.capabilities.maxPayloadBytes + 1),
          contentType: 'application/octet-stream',
        });
        await expectOmnibusRejection(
          ctx.publish(t, destination, [tooBig]),
          'publishing maxPayloadBytes + 1',
          ErrorCodes.PAYLOAD_TOO_LARGE,
        );
        const sentinel = ctx.envelope();
        await ctx.publish(t, destination, [sentinel]);
        await ctx.waitForIds(consumer, [sentinel.id], 'the sentinel');
        expect(consumer.ids(), 'deliveries').to.deep.equal([sentinel.id]);
      },
    },
  ],
};

/** N. Delayed delivery. */
export const delayCases: ContractCaseGroup = {
  letter: 'N',
  title: 'delayed delivery',
  cases: [
    {
      id: 'N1',
      rules: [13],
      title:
        'a message published with an 800 ms delay is not delivered before it, nor holds back undelayed messages, and arrives within a generous bound',
      requires: needs.delayedDelivery,
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string, concurrency: 2 });
        const delayMs = 800;
        const delayed = ctx.envelope();
        const immediate = ctx.envelope();
        const before = performance.now();
        await ctx.publish(t, destination, [{ envelope: delayed, delayMs }]);
        await ctx.publish(t, destination, [immediate]);
        await ctx.waitForIds(consumer, [immediate.id], 'the undelayed message');
        await ctx.waitForIds(consumer, [delayed.id], 'the delayed message', delayMs + DELAY_UPPER_SLACK_MS);
        const at = consumer.received.find((r) => r.delivery.envelope.id === delayed.id)?.at ?? 0;
        const immediateAt = consumer.received.find((r) => r.delivery.envelope.id === immediate.id)?.at ?? 0;
        expect(
          at - before,
          `delayed message arrived ${(at - before).toFixed(1)} ms after publish`,
        ).to.be.at.least(delayMs - CLOCK_TOLERANCE_MS);
        expect(at - before, 'upper bound').to.be.at.most(delayMs + ctx.ms(DELAY_UPPER_SLACK_MS));
        expect(immediateAt, 'the undelayed message arrived before the delayed one').to.be.below(at);
      },
    },
    {
      id: 'N2',
      rules: [13],
      title: 'delayMs 0 means at once',
      requires: needs.delayedDelivery,
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string });
        const sent = ctx.envelope();
        await ctx.publish(t, destination, [{ envelope: sent, delayMs: 0 }]);
        await ctx.waitForIds(consumer, [sent.id], 'the message');
      },
    },
    {
      id: 'N3',
      rules: [13],
      title: 'a delay above delayedDelivery.maxDelayMs is rejected at publish with DELAY_OUT_OF_RANGE',
      requires: needs.delayedDelivery,
      async run(ctx) {
        const t = await ctx.transport();
        const { destination } = await ctx.topology(t);
        const caps = ctx.capabilities.delayedDelivery;
        if (caps === false) return;
        await expectOmnibusRejection(
          ctx.publish(t, destination, [{ envelope: ctx.envelope(), delayMs: caps.maxDelayMs + 1 }]),
          `publish with delayMs ${String(caps.maxDelayMs + 1)}`,
          ErrorCodes.DELAY_OUT_OF_RANGE,
        );
      },
    },
    {
      id: 'N4',
      rules: [13],
      title:
        'without delayed delivery, a publish with delayMs > 0 is rejected with DELAY_OUT_OF_RANGE (never delivered early)',
      requires: (c) =>
        c.delayedDelivery === false
          ? undefined
          : 'capability delayedDelivery is declared (case applies only without it)',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination } = await ctx.topology(t);
        await expectOmnibusRejection(
          ctx.publish(t, destination, [{ envelope: ctx.envelope(), delayMs: 1_000 }]),
          'publish with delayMs 1000',
          ErrorCodes.DELAY_OUT_OF_RANGE,
        );
      },
    },
  ],
};
