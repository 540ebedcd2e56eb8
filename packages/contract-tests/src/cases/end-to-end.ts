import { performance } from 'node:perf_hooks';
import {
  EventHandler,
  createEventBus,
  defineEvent,
  type EventBus,
  type HandlerContext,
  type MessageSettledEvent,
  type Transport,
} from '@omnibus/core';
import { expect } from 'chai';
import { badInputCase } from './bad-input.js';
import { causationChainCase, idStabilityCase } from './end-to-end-identity.js';
import type { ContractCaseGroup } from '../contract-case.js';
import type { CaseContext } from '../support/case-context.js';
import { CLOCK_TOLERANCE_MS } from './retry.js';

/** Payload of the end-to-end cases' event. */
interface E2ePayload {
  readonly n: number;
  readonly fail: 'never' | 'twice' | 'always';
}

/** A transport from the adapter's factory, not connected (the bus connects and owns it). */
export async function busTransport(ctx: CaseContext): Promise<Transport> {
  const transport = await ctx.options.createTransport();
  ctx.adopt(transport);
  return transport;
}

export async function stopBus(bus: EventBus, ctx: CaseContext): Promise<void> {
  await bus.stop({ drainTimeoutMs: ctx.ms(2_000) });
}

/** Z. A few end-to-end cases through `createEventBus` (router + transport together). */
export const endToEndCases: ContractCaseGroup = {
  letter: 'Z',
  title: 'end to end through the EventBus',
  cases: [
    {
      id: 'Z1',
      rules: [1, 4, 5],
      title:
        'through the EventBus, a handler failing twice is retried with backoff and acked, an always-failing one is dead-lettered; settled events match the handler calls',
      timeoutMs: 30_000,
      async run(ctx) {
        const destination = ctx.name('d');
        const group = ctx.name('g');
        const event = defineEvent<E2ePayload>(`${ctx.name('e')}.v1`, { destination });
        const calls: { n: number; attempt: number; at: number }[] = [];
        class ContractHandler {
          @EventHandler(event, {
            group,
            concurrency: 2,
            retry: { maxAttempts: 3, initialDelayMs: 50, multiplier: 2, maxDelayMs: 1_000, jitter: 0 },
          })
          handle(payload: E2ePayload, context: HandlerContext): Promise<void> {
            calls.push({ n: payload.n, attempt: context.deliveryAttempt, at: performance.now() });
            if (payload.fail === 'always' || (payload.fail === 'twice' && context.deliveryAttempt < 3)) {
              return Promise.reject(new Error(`contract failure of #${String(payload.n)}`));
            }
            return Promise.resolve();
          }
        }
        const bus = createEventBus({
          transport: await busTransport(ctx),
          handlers: [ContractHandler],
          events: [event],
        });
        const settled: MessageSettledEvent[] = [];
        let received = 0;
        bus.on('message.settled', (e) => {
          settled.push(e);
        });
        bus.on('message.received', () => {
          received += 1;
        });
        try {
          await bus.start();
          await bus.publish(event, { n: 1, fail: 'twice' });
          const poison = await bus.publish(event, { n: 2, fail: 'always' });
          await bus.publish(event, { n: 3, fail: 'never' });
          await ctx.waitFor(
            () => settled.filter((s) => s.outcome === 'acked' || s.outcome === 'dead-lettered').length >= 3,
            'all three messages to reach a final outcome',
            15_000,
          );
          const dead = await ctx.readDeadLetters(destination, group, 1);
          expect(
            dead.map((d) => d.envelope.id),
            'dead letters',
          ).to.deep.equal([poison.id]);
          expect(dead[0]?.info.attempts, 'dead-letter attempts').to.equal(3);
          // The documented reason code of a plain Error thrown on the last attempt.
          expect(dead[0]?.info.code, 'dead-letter reason code').to.equal('HANDLER_FAILED');
          expect(dead[0]?.info.message, 'dead-letter reason').to.include('contract failure of #2');
          const outcomes = (n: number): string[] =>
            settled
              .filter((s) => (JSON.parse(new TextDecoder().decode(s.envelope.payload)) as E2ePayload).n === n)
              .map((s) => `${s.outcome}#${String(s.attempt)}`);
          expect(outcomes(1)).to.deep.equal(['retried#1', 'retried#2', 'acked#3']);
          expect(outcomes(2)).to.deep.equal(['retried#1', 'retried#2', 'dead-lettered#3']);
          expect(outcomes(3)).to.deep.equal(['acked#1']);
          expect(settled.length, 'settled events = handler calls').to.equal(calls.length);
          expect(received, 'received events = handler calls').to.equal(calls.length);
          for (const n of [1, 2]) {
            const times = calls.filter((c) => c.n === n).map((c) => c.at);
            expect(
              (times[1] ?? 0) - (times[0] ?? 0),
              `backoff before attempt 2 of #${String(n)}`,
            ).to.be.at.least(50 - CLOCK_TOLERANCE_MS);
            expect(
              (times[2] ?? 0) - (times[1] ?? 0),
              `backoff before attempt 3 of #${String(n)}`,
            ).to.be.at.least(100 - CLOCK_TOLERANCE_MS);
          }
        } finally {
          await stopBus(bus, ctx);
        }
      },
    },
    {
      id: 'Z2',
      rules: [9, 12],
      title:
        'through the EventBus, payload, headers and correlation reach the handler, and a foreign message is dead-lettered by the router without stopping the consumer',
      timeoutMs: 30_000,
      async run(ctx) {
        const destination = ctx.name('d');
        const group = ctx.name('g');
        const event = defineEvent<{ text: string; list: number[] }>(`${ctx.name('e')}.v1`, { destination });
        const seen: { payload: { text: string; list: number[] }; context: HandlerContext }[] = [];
        class ContractHandler {
          @EventHandler(event, { group, retry: { maxAttempts: 1 } })
          handle(payload: { text: string; list: number[] }, context: HandlerContext): Promise<void> {
            seen.push({ payload, context });
            return Promise.resolve();
          }
        }
        const bus = createEventBus({
          transport: await busTransport(ctx),
          handlers: [ContractHandler],
          events: [event],
        });
        try {
          await bus.start();
          const first = await bus.publish(
            event,
            { text: 'héllo 😀', list: [1, 2, 3] },
            {
              correlationId: 'corr-z2',
              headers: { 'x-e2e': 'ünïcode', 'x-empty': '' },
              partitionKey: 'pk-z2',
            },
          );
          await ctx.waitFor(() => seen.length >= 1, 'the first event');
          const got = seen[0];
          expect(got?.payload).to.deep.equal({ text: 'héllo 😀', list: [1, 2, 3] });
          expect(got?.context.envelope.id).to.equal(first.id);
          expect(got?.context.envelope.correlationId).to.equal('corr-z2');
          expect(got?.context.envelope.partitionKey).to.equal('pk-z2');
          expect(got?.context.envelope.headers).to.include({ 'x-e2e': 'ünïcode', 'x-empty': '' });
          const body =
            ctx.options.foreignBodies === 'text'
              ? new TextEncoder().encode('plain text, not an envelope')
              : new Uint8Array([0xff, 0x00, 0x01]);
          await ctx.options.publishForeign(destination, body, { 'x-foreign': 'yes' });
          const dead = await ctx.readDeadLetters(destination, group, 1, 10_000);
          expect(dead.length, 'dead-lettered foreign messages').to.equal(1);
          expect(dead[0]?.info.code, 'reason code').to.be.a('string').and.not.equal('');
          expect(dead[0]?.info.destination).to.equal(destination);
          await bus.publish(event, { text: 'after', list: [] });
          await ctx.waitFor(() => seen.length >= 2, 'an event after the foreign message');
        } finally {
          await stopBus(bus, ctx);
        }
      },
    },
    badInputCase,
    causationChainCase,
    idStabilityCase,
  ],
};
