import { EventHandler, createEventBus, defineEvent, isOmnibusError, type EventBus } from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCase } from '../contract-case.js';

/** What plain JavaScript (or a cast) can hand the public API; each entry must reject with `code`. */
type Misuse = readonly [what: string, code: string, call: (bus: EventBus) => Promise<unknown>];

/**
 * Z3. Wrong arguments to `publish`/`publishBatch` reject with a typed error on every transport,
 * never crash the process and never publish: the one valid message sent afterwards is the only
 * one the handler sees.
 */
export const badInputCase: ContractCase = {
  id: 'Z3',
  rules: [9, 14],
  title:
    'through the EventBus, publish with a string for the event, a missing payload or mistyped options rejects with a typed error and publishes nothing',
  timeoutMs: 30_000,
  async run(ctx) {
    const destination = ctx.name('d');
    const group = ctx.name('g');
    const event = defineEvent<{ n: number }>(`${ctx.name('e')}.v1`, { destination });
    const seen: number[] = [];
    class ContractHandler {
      @EventHandler(event, { group })
      handle(payload: { n: number }): Promise<void> {
        seen.push(payload.n);
        return Promise.resolve();
      }
    }
    const transport = await ctx.options.createTransport();
    ctx.adopt(transport);
    const bus = createEventBus({ transport, handlers: [ContractHandler], events: [event] });
    // Deliberately untyped, as a plain-JavaScript caller would be.
    const loose = bus as unknown as {
      publish(event: unknown, payload?: unknown, options?: unknown): Promise<unknown>;
      publishBatch(event: unknown, payloads?: unknown, options?: unknown): Promise<unknown>;
    };
    const misuses: readonly Misuse[] = [
      ['the event name as a string', 'ARGUMENT_INVALID', () => loose.publish(event.name, { n: 1 })],
      ['no event at all', 'ARGUMENT_INVALID', () => loose.publish(undefined, { n: 1 })],
      ['an object without a name', 'ARGUMENT_INVALID', () => loose.publish({ destination }, { n: 1 })],
      ['no payload', 'VALIDATION_FAILED', () => loose.publish(event)],
      ['options as a string', 'ARGUMENT_INVALID', () => loose.publish(event, { n: 1 }, 'urgent')],
      ['a numeric id', 'ARGUMENT_INVALID', () => loose.publish(event, { n: 1 }, { id: 42 })],
      [
        'a numeric partition key',
        'ARGUMENT_INVALID',
        () => loose.publish(event, { n: 1 }, { partitionKey: 7 }),
      ],
      ['a string delay', 'ARGUMENT_INVALID', () => loose.publish(event, { n: 1 }, { delayMs: '100' })],
      [
        'occurredAt as a string',
        'ARGUMENT_INVALID',
        () => loose.publish(event, { n: 1 }, { occurredAt: 'now' }),
      ],
      [
        'a numeric header value',
        'VALIDATION_FAILED',
        () => loose.publish(event, { n: 1 }, { headers: { 'x-n': 1 } }),
      ],
      ['a payload that is not JSON', 'ENCODE_FAILED', () => loose.publish(event, () => 1)],
      ['a batch that is not an array', 'ARGUMENT_INVALID', () => loose.publishBatch(event, { n: 1 })],
      ['a batch for a string event', 'ARGUMENT_INVALID', () => loose.publishBatch(event.name, [{ n: 1 }])],
      [
        'a batch with an undefined payload',
        'VALIDATION_FAILED',
        () => loose.publishBatch(event, [{ n: 1 }, undefined]),
      ],
    ];
    try {
      await bus.start();
      for (const [what, code, call] of misuses) {
        let error: unknown;
        try {
          await call(bus);
        } catch (caught) {
          error = caught;
        }
        expect(isOmnibusError(error), `${what}: a typed OmnibusError, got ${String(error)}`).to.equal(true);
        expect((error as { code: string }).code, `${what}: error code`).to.equal(code);
      }
      await bus.publish(event, { n: 99 });
      await ctx.waitFor(() => seen.length >= 1, 'the valid message');
      // Give a wrongly published message the same chance to arrive as the valid one had.
      await bus.publish(event, { n: 100 });
      await ctx.waitFor(() => seen.length >= 2, 'a second valid message');
      expect(
        [...seen].sort((a, b) => a - b),
        'only the valid messages were published',
      ).to.deep.equal([99, 100]);
    } finally {
      await bus.stop({ drainTimeoutMs: ctx.ms(2_000) });
    }
  },
};
