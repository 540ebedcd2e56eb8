import { expect } from 'chai';
import { context, trace } from '@opentelemetry/api';
import {
  createEventBus,
  defineEvent,
  EventHandler,
  InMemoryBroker,
  InMemoryTransport,
  OmnibusError,
  parseTraceparent,
  type EventBus,
  type EventBusConfig,
  type HandlerContext,
  type Transport,
} from '@omnibus/core';
import { waitFor } from '@omnibus/core/testing';
import { buildSpanTree, formatSpanTree, openTelemetry, type SpanRecord } from '../src/index.js';
import { openSdk, type SdkFixture } from './sdk-fixture.js';

let sequence = 0;
const unique = (name: string): string => `otel.${name}.${String(process.pid)}.${String(++sequence)}`;

describe('openTelemetry()', () => {
  let sdk: SdkFixture;
  const buses: EventBus[] = [];
  beforeEach(() => {
    sdk = openSdk();
  });
  afterEach(async () => {
    await Promise.all(buses.splice(0).map((bus) => bus.stop({ drainTimeoutMs: 500 })));
    await sdk.close();
  });
  const start = async (config: EventBusConfig, broker = new InMemoryBroker()): Promise<EventBus> => {
    const bus = createEventBus({ transport: new InMemoryTransport({ broker }), ...config });
    buses.push(bus);
    await bus.start();
    return bus;
  };
  const plugin = (consumerContext?: 'parent' | 'link') =>
    openTelemetry({
      tracerProvider: sdk.tracerProvider,
      meterProvider: sdk.meterProvider,
      ...(consumerContext === undefined ? {} : { consumerContext }),
    });

  it('a producer span per publish carries its context in traceparent; the consumer span is its child with the messaging attributes', async () => {
    const Order = defineEvent<{ id: string }>(unique('order'));
    const seen: HandlerContext[] = [];
    const activeInHandler: string[] = [];
    class Handler {
      @EventHandler(Order, { group: 'billing' })
      on(_p: { id: string }, ctx: HandlerContext): void {
        seen.push(ctx);
        activeInHandler.push(trace.getActiveSpan()?.spanContext().spanId ?? 'none');
      }
    }
    const bus = await start({ handlers: [Handler], plugins: [plugin()] });
    const envelope = await bus.publish(
      Order,
      { id: 'o-1' },
      { partitionKey: 'k-1', correlationId: 'conv-1' },
    );
    await waitFor(() => sdk.spans().length === 2);
    const [send, process] = ['producer', 'consumer'].map((kind) =>
      sdk.spans().find((s) => s.kind === kind),
    ) as [SpanRecord, SpanRecord];
    expect(send.name).to.equal(`send ${Order.name}`);
    expect(send.attributes).to.deep.include({
      'messaging.system': 'omnibus_in_memory',
      'messaging.destination.name': Order.name,
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'messaging.message.id': envelope.id,
      'messaging.message.conversation_id': 'conv-1',
      'omnibus.message.partition_key': 'k-1',
      'cloudevents.event_type': Order.name,
    });
    expect(parseTraceparent(envelope.headers.traceparent)).to.deep.equal({
      traceId: send.traceId,
      parentId: send.spanId,
      flags: '01',
    });
    expect(process.name).to.equal(`process ${Order.name}`);
    expect(process.parentSpanId).to.equal(send.spanId);
    expect(process.traceId).to.equal(send.traceId);
    expect(process.attributes).to.deep.include({
      'messaging.consumer.group.name': 'billing',
      'messaging.operation.type': 'process',
      'messaging.message.id': envelope.id,
      'omnibus.delivery.attempt': 1,
      'omnibus.settlement.outcome': 'acked',
      'omnibus.handler': 'Handler.on',
    });
    expect(activeInHandler).to.deep.equal([process.spanId]);
    expect(seen[0]?.traceparent).to.equal(envelope.headers.traceparent);
  });

  it("consumerContext 'link' starts a new trace per attempt linked to the producer span", async () => {
    const Order = defineEvent<{ id: string }>(unique('order'));
    class Handler {
      @EventHandler(Order, { group: 'billing' })
      on(): void {}
    }
    const bus = await start({ handlers: [Handler], plugins: [plugin('link')] });
    await bus.publish(Order, { id: 'o-1' });
    await waitFor(() => sdk.spans().length === 2);
    const send = sdk.spans().find((s) => s.kind === 'producer');
    const process = sdk.spans().find((s) => s.kind === 'consumer');
    expect(process?.parentSpanId).to.equal(undefined);
    expect(process?.traceId).to.not.equal(send?.traceId);
    expect(process?.links).to.deep.equal([{ traceId: send?.traceId, spanId: send?.spanId }]);
  });

  it('a batch gets a create span per message and one send span linking them; each consumer span is the child of its create span', async () => {
    const Order = defineEvent<{ n: number }>(unique('order'));
    class Handler {
      @EventHandler(Order, { group: 'g' })
      on(): void {}
    }
    const bus = await start({ handlers: [Handler], plugins: [plugin()] });
    const envelopes = await bus.publishBatch(Order, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    await waitFor(() => sdk.spans().length === 7);
    const creates = sdk.spans().filter((s) => s.name === `create ${Order.name}`);
    const send = sdk.spans().find((s) => s.name === `send ${Order.name}`);
    expect(creates.map((c) => c.kind)).to.deep.equal(['producer', 'producer', 'producer']);
    expect(send?.kind).to.equal('client');
    expect(send?.attributes['messaging.batch.message_count']).to.equal(3);
    expect(send?.links.map((l) => l.spanId).sort()).to.deep.equal(creates.map((c) => c.spanId).sort());
    for (const envelope of envelopes) {
      const create = creates.find((c) => c.attributes['messaging.message.id'] === envelope.id);
      const process = sdk
        .spans()
        .find((s) => s.kind === 'consumer' && s.attributes['messaging.message.id'] === envelope.id);
      expect(parseTraceparent(envelope.headers.traceparent)?.parentId).to.equal(create?.spanId);
      expect(process?.parentSpanId).to.equal(create?.spanId);
    }
  });

  it('a failed publish ends its span with error.type and counts the failure; the caller gets the typed error', async () => {
    const Order = defineEvent<{ n: number }>(unique('order'));
    // The plugin's middleware runs after config.publishMiddleware, so the failure is a second plugin.
    const refuse = (): Promise<void> => Promise.reject(new OmnibusError('PUBLISH_FAILED', 'broker said no'));
    const bus = await start({ events: [Order], plugins: [plugin(), { name: 'refuse', publish: refuse }] });
    const error = await bus.publish(Order, { n: 1 }).catch((e: unknown) => e);
    expect((error as OmnibusError).code).to.equal('PUBLISH_FAILED');
    const [send] = sdk.spans();
    expect(send?.status).to.equal('error');
    expect(send?.attributes['error.type']).to.equal('PUBLISH_FAILED');
    const points = await sdk.points();
    const key = [...points.keys()].find(
      (k) => k.startsWith('messaging.client.sent.messages{') && k.includes('error.type=PUBLISH_FAILED'),
    );
    expect(key === undefined ? undefined : points.get(key)).to.equal(1);
  });

  it('the in-flight gauge counts running handlers and the trace tree formats as text', async () => {
    const Order = defineEvent<{ n: number }>(unique('order'));
    let release: (() => void) | undefined;
    class Handler {
      @EventHandler(Order, { group: 'g' })
      async on(): Promise<void> {
        await new Promise<void>((resolve) => (release = resolve));
      }
    }
    const bus = await start({ handlers: [Handler], plugins: [plugin()] });
    await bus.publish(Order, { n: 1 });
    await waitFor(() => release !== undefined);
    const inFlight = async (): Promise<number | undefined> =>
      [...(await sdk.points()).entries()].find(([k]) => k.startsWith('omnibus.handlers.in_flight{'))?.[1];
    expect(await inFlight()).to.equal(1);
    release?.();
    await waitFor(() => sdk.spans().length === 2);
    expect(await inFlight()).to.equal(0);
    const text = formatSpanTree(buildSpanTree(sdk.spans()), { durations: false });
    expect(text).to.equal(
      [
        `send ${Order.name} [producer]`,
        `└─ process ${Order.name} [consumer] group=g attempt=1 outcome=acked`,
      ].join('\n'),
    );
  });

  it('the backlog gauge reads the broker only when collected, per group, down to 0 after the drain; a broker that does not answer in time does not hold up collection (its last reading stays)', async () => {
    const Order = defineEvent<{ n: number }>(unique('order'));
    let release: (() => void) | undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    class Handler {
      @EventHandler(Order, { group: 'billing', concurrency: 1 })
      async on(): Promise<void> {
        await released;
      }
    }
    const transport = new InMemoryTransport();
    const read = transport.readBacklog.bind(transport);
    let reads = 0;
    let stall = false;
    transport.readBacklog = (destination, group) => {
      reads += 1;
      return stall ? new Promise(() => undefined) : read(destination, group);
    };
    const bus = createEventBus({
      transport,
      handlers: [Handler],
      plugins: [
        openTelemetry({
          tracerProvider: sdk.tracerProvider,
          meterProvider: sdk.meterProvider,
          backlog: { maxAgeMs: 0, timeoutMs: 200 },
        }),
      ],
    });
    buses.push(bus);
    await bus.start();
    await bus.publishBatch(Order, [{ n: 1 }, { n: 2 }, { n: 3 }, { n: 4 }]);
    expect(reads, 'nothing asks the broker until a reader collects').to.equal(0);
    const key = `omnibus.consumer.backlog{messaging.consumer.group.name=billing,messaging.destination.name=${Order.name},messaging.system=omnibus_in_memory,omnibus.backlog.approximate=false,omnibus.backlog.kind=unsettled}`;
    expect((await sdk.points()).get(key)).to.equal(4);
    expect(reads).to.equal(1);
    release?.();
    await waitFor(async () => (await sdk.points()).get(key) === 0, { message: 'backlog 0 after the drain' });
    stall = true;
    const before = reads;
    const points = await sdk.points();
    expect(reads, 'one query for the stalled collection').to.equal(before + 1);
    expect(
      [...points.keys()].filter((k) => k.startsWith('omnibus.consumer.backlog{')),
      'the last reading is kept while the broker is silent',
    ).to.deep.equal([key]);
    await sdk.points();
    expect(reads, 'no second query while the first is still unanswered').to.equal(before + 1);
  });

  it('backlog: false registers no backlog gauge', async () => {
    const Order = defineEvent<{ n: number }>(unique('order'));
    class Handler {
      @EventHandler(Order, { group: 'g' })
      on(): void {}
    }
    await start({
      handlers: [Handler],
      plugins: [
        openTelemetry({
          tracerProvider: sdk.tracerProvider,
          meterProvider: sdk.meterProvider,
          backlog: false,
        }),
      ],
    });
    expect(
      [...(await sdk.points()).keys()].filter((k) => k.startsWith('omnibus.consumer.backlog')),
    ).to.deep.equal([]);
  });

  it('with @opentelemetry/api and no SDK nothing is recorded and messages keep a valid core traceparent', async () => {
    await sdk.close();
    sdk = openSdk();
    context.disable();
    const Order = defineEvent<{ n: number }>(unique('order'));
    const got: string[] = [];
    class Handler {
      @EventHandler(Order, { group: 'g' })
      on(_p: unknown, ctx: HandlerContext): void {
        got.push(ctx.envelope.headers.traceparent ?? '');
      }
    }
    const bus = await start({ handlers: [Handler], plugins: [openTelemetry()] });
    const envelope = await bus.publish(Order, { n: 1 });
    await waitFor(() => got.length === 1);
    expect(parseTraceparent(envelope.headers.traceparent)).to.not.equal(undefined);
    expect(got).to.deep.equal([envelope.headers.traceparent]);
    expect(sdk.spans()).to.deep.equal([]);
  });
});

/** Hostile trace headers, as a foreign producer might send them. */
function hostileHeaders(random: () => number): Record<string, string> {
  const hex = (n: number): string =>
    Array.from({ length: n }, () => Math.floor(random() * 16).toString(16)).join('');
  const junk = (n: number): string =>
    Array.from({ length: n }, () => String.fromCharCode(Math.floor(random() * 0xffff))).join('');
  const cases = [
    () => junk(Math.floor(random() * 80)),
    () => `00-${hex(32)}-${hex(16)}-${hex(2)}${junk(3)}`,
    () => `00-${hex(32)}-${hex(16)}-01`,
    () => `00-${'0'.repeat(32)}-${hex(16)}-01`,
    () => `ff-${hex(32)}-${hex(16)}-01`,
    () => `00-${hex(31)}-${hex(16)}-01`,
    () => `00-${hex(32)}-${hex(16)}-01`.repeat(20_000),
    () => `${'0'.repeat(1_000_000)}`,
    () => `00-${hex(32).toUpperCase()}-${hex(16)}-zz`,
  ];
  const states = [
    () => junk(100),
    () => Array.from({ length: 5000 }, (_, i) => `k${String(i)}=v`).join(','),
    () => 'a'.repeat(600_000),
    () => '=,=,,==',
    () => `vendor=${junk(20)}`,
  ];
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  return { traceparent: pick(cases)(), tracestate: pick(states)() };
}

describe('openTelemetry() with hostile trace context from foreign producers (fuzz)', () => {
  let sdk: SdkFixture;
  afterEach(async () => {
    await sdk.close();
  });

  it('every delivery is handled and acked, and each consumer span starts a new trace or continues only a well-formed one', async function () {
    this.timeout(60_000);
    sdk = openSdk();
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const broker = new InMemoryBroker();
    const Order = defineEvent<{ n: number }>(unique('fuzz'));
    const handled: number[] = [];
    class Handler {
      @EventHandler(Order, { group: 'g', concurrency: 8 })
      on(payload: { n: number }): void {
        handled.push(payload.n);
      }
    }
    const consumer = createEventBus({
      transport: new InMemoryTransport({ broker }),
      handlers: [Handler],
      plugins: [openTelemetry({ tracerProvider: sdk.tracerProvider, meterProvider: sdk.meterProvider })],
    });
    // The foreign producer: a bus without the plugin, so its headers reach the wire untouched.
    const foreign = createEventBus({
      transport: new InMemoryTransport({ broker }) as Transport,
      events: [Order],
    });
    await consumer.start();
    await foreign.start();
    const sent = new Map<string, Record<string, string>>();
    const total = 300;
    try {
      for (let n = 0; n < total; n++) {
        const headers = hostileHeaders(random);
        const envelope = await foreign.publish(Order, { n }, { headers });
        sent.set(envelope.id, headers);
      }
      await waitFor(() => sdk.spans().length === total, { timeoutMs: 30_000 });
    } finally {
      await consumer.stop({ drainTimeoutMs: 1000 });
      await foreign.stop({ drainTimeoutMs: 1000 });
    }
    expect(handled.length).to.equal(total);
    const spans = sdk.spans();
    expect(spans.every((s) => s.attributes['omnibus.settlement.outcome'] === 'acked')).to.equal(true);
    let continued = 0;
    for (const span of spans) {
      const headers = sent.get(String(span.attributes['messaging.message.id']));
      const parsed = parseTraceparent(headers?.traceparent);
      if (parsed === undefined) {
        expect(span.parentSpanId, 'malformed traceparent → new trace').to.equal(undefined);
      } else {
        continued++;
        expect(span.traceId).to.equal(parsed.traceId);
        expect(span.parentSpanId).to.equal(parsed.parentId);
      }
    }
    expect(continued, 'some well-formed headers in the mix').to.be.greaterThan(0);
    expect(continued, 'mostly hostile').to.be.lessThan(total / 2);
  });
});
