import {
  EventHandler,
  UnrecoverableError,
  createEventBus,
  defineEvent,
  type BatchEntry,
  type MessageSettledEvent,
} from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCase } from '../contract-case.js';
import { needs } from './case-helpers.js';
import { busTransport, stopBus } from './end-to-end.js';

interface Numbered {
  readonly n: number;
  readonly key?: string;
}

const numberOf = (settled: MessageSettledEvent): number =>
  (JSON.parse(new TextDecoder().decode(settled.envelope.payload)) as Numbered).n;

/** W5–W6: batch handlers (core-side batching over the subscription port, so every transport). */
export const batchHandlerCases: readonly ContractCase[] = [
  {
    id: 'W5',
    rules: [1, 4, 5],
    title:
      'batch handler through the EventBus: 6 messages arrive in batches of at most 4; the entry failed unrecoverably is dead-lettered at once, the entry failed once is retried and acked on attempt 2, the others are acked once',
    timeoutMs: 40_000,
    async run(ctx) {
      const destination = ctx.name('d');
      const group = ctx.name('g');
      const Added = defineEvent<Numbered>(`${ctx.name('e')}.added`, { destination });
      const batches: string[][] = [];
      class Ledger {
        @EventHandler(Added, {
          group,
          batch: { maxSize: 4, maxWaitMs: ctx.ms(1_000) },
          retry: { maxAttempts: 2, initialDelayMs: 50, multiplier: 1, maxDelayMs: 1_000, jitter: 0 },
        })
        on(entries: readonly BatchEntry<Numbered>[]): Promise<void> {
          batches.push(entries.map((e) => `${String(e.payload.n)}#${String(e.context.deliveryAttempt)}`));
          for (const entry of entries) {
            if (entry.payload.n === 1) entry.fail(new UnrecoverableError('poison', { code: 'BATCH_POISON' }));
            if (entry.payload.n === 2 && entry.context.deliveryAttempt === 1)
              entry.fail(new Error('busy: once'));
          }
          return Promise.resolve();
        }
      }
      const bus = createEventBus({ transport: await busTransport(ctx), handlers: [Ledger] });
      const settled: MessageSettledEvent[] = [];
      bus.on('message.settled', (event) => {
        if (event.group === group) settled.push(event);
      });
      try {
        await bus.start();
        await bus.publishBatch(
          Added,
          Array.from({ length: 6 }, (_, n) => ({ n })),
        );
        await ctx.waitFor(
          () => settled.filter((s) => s.outcome !== 'retried').length >= 6,
          'every message to reach a final outcome',
          20_000,
        );
        const outcomes = (n: number): string[] =>
          settled.filter((s) => numberOf(s) === n).map((s) => `${s.outcome}#${String(s.attempt)}`);
        expect(outcomes(1), 'the poison entry').to.deep.equal(['dead-lettered#1']);
        expect(outcomes(2), 'the entry failed once').to.deep.equal(['retried#1', 'acked#2']);
        for (const n of [0, 3, 4, 5]) expect(outcomes(n), `entry ${String(n)}`).to.deep.equal(['acked#1']);
        const dead = await ctx.readDeadLetters(destination, group, 1, 10_000);
        expect(dead.map((d) => d.info.code)).to.deep.equal(['BATCH_POISON']);
        expect(
          batches.every((b) => b.length >= 1 && b.length <= 4),
          `batch sizes ${JSON.stringify(batches)}`,
        ).to.equal(true);
        expect(
          batches.some((b) => b.length >= 2),
          `some batch holds several messages: ${JSON.stringify(batches)}`,
        ).to.equal(true);
        expect(
          batches.flat().sort(),
          'every handled entry once (7: six first attempts and one retry)',
        ).to.deep.equal(['0#1', '1#1', '2#1', '2#2', '3#1', '4#1', '5#1']);
      } finally {
        await stopBus(bus, ctx);
      }
    },
  },
  {
    id: 'W6',
    rules: [7],
    requires: needs.perKeyOrdering,
    title:
      'ordered batch handler through the EventBus: 12 messages over 3 keys are handled in publish order per key, a batch never holds two messages of one key, all acked',
    timeoutMs: 60_000,
    async run(ctx) {
      const destination = ctx.name('d');
      const group = ctx.name('g');
      const Moved = defineEvent<Numbered>(`${ctx.name('e')}.moved`, { destination });
      const batches: Numbered[][] = [];
      class Tracker {
        @EventHandler(Moved, {
          group,
          ordered: true,
          concurrency: 2,
          batch: { maxSize: 3, maxWaitMs: ctx.ms(200) },
          retry: { maxAttempts: 1 },
        })
        on(entries: readonly BatchEntry<Numbered>[]): Promise<void> {
          batches.push(entries.map((e) => e.payload));
          return Promise.resolve();
        }
      }
      const bus = createEventBus({ transport: await busTransport(ctx), handlers: [Tracker] });
      const settled: MessageSettledEvent[] = [];
      bus.on('message.settled', (event) => {
        if (event.group === group) settled.push(event);
      });
      const keys = ['k1', 'k2', 'k3'];
      const sends = Array.from({ length: 12 }, (_, n) => ({ n, key: keys[n % 3] ?? 'k1' }));
      try {
        await bus.start();
        for (const payload of sends) await bus.publish(Moved, payload, { partitionKey: payload.key });
        await ctx.waitFor(() => settled.length >= sends.length, 'all 12 messages settled', 40_000);
        expect(
          settled.every((s) => s.outcome === 'acked' && s.attempt === 1),
          'all acked at once',
        ).to.equal(true);
        for (const batch of batches) {
          const batchKeys = batch.map((p) => p.key);
          expect(new Set(batchKeys).size, `one message per key in ${JSON.stringify(batch)}`).to.equal(
            batchKeys.length,
          );
        }
        const handled = batches.flat();
        for (const key of new Set(sends.map((s) => s.key))) {
          expect(
            handled.filter((p) => p.key === key).map((p) => p.n),
            `order of key ${key}`,
          ).to.deep.equal(sends.filter((s) => s.key === key).map((s) => s.n));
        }
      } finally {
        await stopBus(bus, ctx);
      }
    },
  },
];
