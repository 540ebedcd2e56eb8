import {
  EventHandler,
  createEventBus,
  defineEvent,
  defineFlow,
  defineRequest,
  type HandlerContext,
  type MessageSettledEvent,
} from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import { expectOmnibusRejection, needs } from './case-helpers.js';
import { batchHandlerCases } from './batch-handlers.js';
import { busTransport, stopBus } from './end-to-end.js';

interface PriceV2 {
  readonly sku: string;
  readonly price: { readonly amount: number; readonly currency: string };
}

/** W. Event flows through the EventBus: upcasting, filters, request/reply, forwarding, batch handlers. */
export const flowCases: ContractCaseGroup = {
  letter: 'W',
  title: 'event flows through the EventBus',
  cases: [
    {
      id: 'W1',
      rules: [9, 12],
      title:
        'upcasting: version-1 payloads a foreign producer sends (with and without a version header) reach a version-2 handler converted; a current publish arrives as is; a version newer than the consumer is dead-lettered UPCAST_FAILED',
      timeoutMs: 30_000,
      async run(ctx) {
        const destination = ctx.name('d');
        const group = ctx.name('g');
        const name = `${ctx.name('e')}.price-changed`;
        const PriceChanged = defineEvent<PriceV2>(name, {
          destination,
          version: 2,
          upcasters: {
            1: (v1: { sku: string; cents: number }) => ({
              sku: v1.sku,
              price: { amount: v1.cents / 100, currency: 'EUR' },
            }),
          },
        });
        const seen: { payload: PriceV2; context: HandlerContext }[] = [];
        class Prices {
          @EventHandler(PriceChanged, { group, retry: { maxAttempts: 1 } })
          handle(payload: PriceV2, context: HandlerContext): Promise<void> {
            seen.push({ payload, context });
            return Promise.resolve();
          }
        }
        const bus = createEventBus({ transport: await busTransport(ctx), handlers: [Prices] });
        const json = (value: unknown): Uint8Array => new TextEncoder().encode(JSON.stringify(value));
        const headers = (id: string): Record<string, string> => ({
          'ce-specversion': '1.0',
          'ce-id': id,
          'ce-type': name,
          'content-type': 'application/json',
        });
        const ids = { unversioned: ctx.name('m'), v1: ctx.name('m'), newer: ctx.name('m') };
        try {
          await bus.start();
          await ctx.options.publishForeign(
            destination,
            json({ sku: 'a', cents: 150 }),
            headers(ids.unversioned),
          );
          await ctx.options.publishForeign(destination, json({ sku: 'b', cents: 275 }), {
            ...headers(ids.v1),
            'omnibus-event-version': 1,
          });
          const current = await bus.publish(PriceChanged, {
            sku: 'c',
            price: { amount: 9, currency: 'USD' },
          });
          await ctx.options.publishForeign(destination, json({ sku: 'd', price: 1, tax: 2 }), {
            ...headers(ids.newer),
            'omnibus-event-version': '3',
          });
          await ctx.waitFor(() => seen.length >= 3, 'three handled price changes');
          const byId = new Map(seen.map((s) => [s.context.envelope.id, s]));
          expect(byId.get(ids.unversioned)?.payload, 'no version header: read as version 1').to.deep.equal({
            sku: 'a',
            price: { amount: 1.5, currency: 'EUR' },
          });
          expect(byId.get(ids.v1)?.payload, 'version 1').to.deep.equal({
            sku: 'b',
            price: { amount: 2.75, currency: 'EUR' },
          });
          expect(byId.get(current.id)?.payload, 'current version').to.deep.equal({
            sku: 'c',
            price: { amount: 9, currency: 'USD' },
          });
          expect(byId.get(current.id)?.context.envelope.version, 'version on the wire').to.equal(2);
          expect(byId.get(ids.v1)?.context.envelope.version).to.equal(1);
          const dead = await ctx.readDeadLetters(destination, group, 1, 10_000);
          expect(dead.length, 'dead-lettered newer version').to.equal(1);
          expect(dead[0]?.envelope.id).to.equal(ids.newer);
          expect(dead[0]?.info.code).to.equal('UPCAST_FAILED');
          expect(dead[0]?.info.message).to.contain('version 3, newer than this consumer');
          expect(seen.length, 'the newer version never reached the handler').to.equal(3);
        } finally {
          await stopBus(bus, ctx);
        }
      },
    },
    {
      id: 'W2',
      rules: [3, 6],
      requires: needs.fanOut,
      title:
        'content-based filter: of 8 messages, exactly those matching the header and payload filter reach the handler, the same set in a group whose filter the broker evaluates (headerFilters: broker) and in one only the router evaluates; the rest are acked as filtered (never retried or dead-lettered) or, pushed down, never delivered; another group receives all 8',
      timeoutMs: 30_000,
      async run(ctx) {
        const destination = ctx.name('d');
        const picky = ctx.name('g');
        const routerOnly = ctx.name('g');
        const everyone = ctx.name('g');
        const Placed = defineEvent<{ n: number; total: number }>(`${ctx.name('e')}.v1`, { destination });
        // Never published: a handler of it without a header filter keeps routerOnly's filter off
        // the broker (a group's broker filter must let through what any of its handlers wants).
        const Unused = defineEvent<{ n: number }>(`${ctx.name('e')}.unused.v1`, { destination });
        const filter = {
          headers: { region: 'eu' },
          where: (order: { total: number }): boolean => order.total >= 100,
        };
        const picked: number[] = [];
        const pickedByRouter: number[] = [];
        const all: number[] = [];
        class Picky {
          @EventHandler(Placed, { group: picky, retry: { maxAttempts: 1 }, filter })
          handle(order: { n: number }): Promise<void> {
            picked.push(order.n);
            return Promise.resolve();
          }
        }
        class RouterOnly {
          @EventHandler(Placed, { group: routerOnly, retry: { maxAttempts: 1 }, filter })
          handle(order: { n: number }): Promise<void> {
            pickedByRouter.push(order.n);
            return Promise.resolve();
          }
          @EventHandler(Unused, { group: routerOnly, retry: { maxAttempts: 1 } })
          unused(): Promise<void> {
            return Promise.resolve();
          }
        }
        class Everyone {
          @EventHandler(Placed, { group: everyone, retry: { maxAttempts: 1 } })
          handle(order: { n: number }): Promise<void> {
            all.push(order.n);
            return Promise.resolve();
          }
        }
        const bus = createEventBus({
          transport: await busTransport(ctx),
          handlers: [Picky, RouterOnly, Everyone],
        });
        const settled = new Map<string, MessageSettledEvent[]>([
          [picky, []],
          [routerOnly, []],
        ]);
        bus.on('message.settled', (event) => {
          settled.get(event.group)?.push(event);
        });
        const sends: { total: number; region?: string }[] = [
          { total: 150, region: 'eu' },
          { total: 150, region: 'us' },
          { total: 50, region: 'eu' },
          { total: 500 },
          { total: 100, region: 'eu' },
          { total: 100, region: 'EU' },
          { total: 99, region: 'eu' },
          { total: 1_000, region: 'eu' },
        ];
        const expected = sends.flatMap((s, n) => (s.region === 'eu' && s.total >= 100 ? [n] : []));
        try {
          await bus.start();
          for (const [n, { total, region }] of sends.entries()) {
            await bus.publish(Placed, { n, total }, region === undefined ? {} : { headers: { region } });
          }
          // With the header part pushed down, the broker drops what fails it: never received.
          const pushedDown = ctx.capabilities.headerFilters === 'broker';
          const received = {
            [picky]: sends.filter((s) => !pushedDown || s.region === 'eu').length,
            [routerOnly]: sends.length,
          };
          for (const group of [picky, routerOnly])
            await ctx.waitFor(
              () => (settled.get(group)?.length ?? 0) >= (received[group] ?? 0),
              `every received message settled in filtering group ${group}`,
            );
          await ctx.waitFor(() => all.length >= sends.length, 'every message in the other group');
          const sorted = (ns: number[]): number[] => [...ns].sort((a, b) => a - b);
          expect(sorted(picked), 'messages that reached the filtered handler').to.deep.equal(expected);
          expect(sorted(pickedByRouter), 'the same messages, filtered by the router only').to.deep.equal(
            expected,
          );
          expect(sorted(all)).to.deep.equal(sends.map((_, n) => n));
          for (const group of [picky, routerOnly]) {
            const events = settled.get(group) ?? [];
            const outcomes = events.map((s) => s.outcome);
            expect(outcomes.filter((o) => o === 'acked').length, `acked in ${group}`).to.equal(
              expected.length,
            );
            expect(outcomes.filter((o) => o === 'filtered').length, `filtered in ${group}`).to.equal(
              (received[group] ?? 0) - expected.length,
            );
            expect(
              events.every((s) => s.attempt === 1),
              `nothing retried in ${group}`,
            ).to.equal(true);
          }
        } finally {
          await stopBus(bus, ctx);
        }
      },
    },
    {
      id: 'W3',
      rules: [1, 9],
      title:
        'request/reply through the EventBus: a request resolves with its handler’s typed reply (also when requested from inside another handler); a handler failing for good reaches the requester as REQUEST_FAILED; nothing pending afterwards; where the transport deletes topology, stop removed the reply destination',
      timeoutMs: 60_000,
      async run(ctx) {
        const destination = ctx.name('d');
        const group = ctx.name('g');
        const Quote = defineRequest<{ kg: number }, { cents: number }>(`${ctx.name('e')}.quote`, {
          destination,
        });
        const Trigger = defineEvent<{ kg: number }>(`${ctx.name('e')}.trigger`, {
          destination: ctx.name('d'),
        });
        const fromHandler: number[] = [];
        class Quotes {
          @EventHandler(Quote, { group, retry: { maxAttempts: 1 } })
          quote(request: { kg: number }): { cents: number } {
            if (request.kg < 0) throw new Error(`negative weight ${String(request.kg)}`);
            return { cents: request.kg * 150 };
          }
        }
        class Triggers {
          @EventHandler(Trigger, { group: ctx.name('g'), retry: { maxAttempts: 1 } })
          async on(payload: { kg: number }): Promise<void> {
            const reply = await bus.request(Quote, payload, { timeoutMs: ctx.ms(20_000) });
            fromHandler.push(reply.cents);
          }
        }
        const bus = createEventBus({ transport: await busTransport(ctx), handlers: [Quotes, Triggers] });
        try {
          await bus.start();
          const reply = await bus.request(Quote, { kg: 2 }, { timeoutMs: ctx.ms(20_000) });
          expect(reply, 'typed reply').to.deep.equal({ cents: 300 });
          await bus.publish(Trigger, { kg: 3 });
          await ctx.waitFor(() => fromHandler.length >= 1, 'the reply to a request sent from a handler');
          expect(fromHandler).to.deep.equal([450]);
          const failure = await expectOmnibusRejection(
            bus.request(Quote, { kg: -1 }, { timeoutMs: ctx.ms(20_000) }),
            'a request whose handler fails',
            'REQUEST_FAILED',
          );
          expect(failure.message).to.contain('negative weight -1');
          expect(bus.requestStats()).to.include({ pending: 0, lateReplies: 0 });
        } finally {
          await stopBus(bus, ctx);
        }
        // Where the transport can delete topology, stop removed the reply destination.
        const replyDestination = bus.requestStats().replyDestination;
        const probe = await ctx.transport();
        if (
          replyDestination !== undefined &&
          probe.deleteTopology !== undefined &&
          probe.inspectTopology !== undefined
        ) {
          const left = await probe.inspectTopology({
            destinations: [{ name: replyDestination, groups: [{ name: replyDestination, ordered: false }] }],
          });
          expect(
            left.items
              .filter((item) => item.state === 'present' && item.shared !== true)
              .map((item) => item.nativeName),
            'reply destination objects left after stop',
          ).to.deep.equal([]);
        }
      },
    },
    {
      id: 'W4',
      rules: [1, 9],
      title:
        'forwarding flow through the EventBus: matching source messages are re-published mapped as the target event with causation = source id and the correlation kept; filtered ones are not forwarded',
      timeoutMs: 60_000,
      async run(ctx) {
        const Source = defineEvent<{ n: number; keep: boolean }>(`${ctx.name('e')}.source`, {
          destination: ctx.name('d'),
        });
        const Target = defineEvent<{ doubled: number }>(`${ctx.name('e')}.target`, {
          destination: ctx.name('d'),
        });
        const seen: { payload: { doubled: number }; context: HandlerContext }[] = [];
        class Targets {
          @EventHandler(Target, { group: ctx.name('g'), retry: { maxAttempts: 1 } })
          on(payload: { doubled: number }, context: HandlerContext): Promise<void> {
            seen.push({ payload, context });
            return Promise.resolve();
          }
        }
        const flow = defineFlow({
          name: 'doubler',
          from: Source,
          to: Target,
          group: ctx.name('g'),
          filter: { where: (s) => s.keep },
          map: (s) => ({ doubled: s.n * 2 }),
          options: { retry: { maxAttempts: 1 } },
        });
        const bus = createEventBus({
          transport: await busTransport(ctx),
          handlers: [Targets],
          flows: [flow],
        });
        const sourceOutcomes = new Map<string, string>();
        bus.on('message.settled', (event) => {
          if (event.group === flow.group) sourceOutcomes.set(event.envelope.id, event.outcome);
        });
        try {
          await bus.start();
          const kept = await bus.publish(Source, { n: 21, keep: true }, { correlationId: 'conv-w4' });
          const dropped = await bus.publish(Source, { n: 1, keep: false });
          const last = await bus.publish(Source, { n: 5, keep: true });
          await ctx.waitFor(() => seen.length >= 2, 'two forwarded messages');
          const byCause = new Map(seen.map((s) => [s.context.envelope.causationId, s]));
          expect(byCause.get(kept.id)?.payload).to.deep.equal({ doubled: 42 });
          expect(byCause.get(kept.id)?.context.envelope.correlationId).to.equal('conv-w4');
          expect(byCause.get(last.id)?.payload).to.deep.equal({ doubled: 10 });
          expect(byCause.get(last.id)?.context.envelope.correlationId).to.equal(last.id);
          await ctx.waitFor(() => sourceOutcomes.size >= 3, 'the three source messages settled');
          expect(sourceOutcomes.get(dropped.id), 'the filtered source message').to.equal('filtered');
          expect(sourceOutcomes.get(kept.id)).to.equal('acked');
          expect(seen.length, 'nothing else forwarded').to.equal(2);
        } finally {
          await stopBus(bus, ctx);
        }
      },
    },
    ...batchHandlerCases,
  ],
};
