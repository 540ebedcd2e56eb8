import {
  EventHandler,
  UnrecoverableError,
  createEventBus,
  defineEvent,
  type HandlerContext,
  type MessageSettledEvent,
} from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import type { CaseContext } from '../support/case-context.js';
import type { TelemetryPoint, TelemetrySession, TelemetrySpan } from '../telemetry/telemetry-harness.js';

/** Span attributes the tree compares (besides name and kind). */
const TREE_ATTRIBUTES: readonly [string, string][] = [
  ['messaging.operation.type', 'op'],
  ['omnibus.delivery.attempt', 'attempt'],
  ['omnibus.settlement.outcome', 'outcome'],
  ['omnibus.settlement.reason', 'reason'],
  ['error.type', 'error.type'],
];

/** Metric attributes the points compare. */
const POINT_ATTRIBUTES: readonly [string, string][] = [
  ['messaging.destination.name', 'dest'],
  ['messaging.consumer.group.name', 'group'],
  ['omnibus.settlement.outcome', 'outcome'],
  ['omnibus.settlement.reason', 'reason'],
  ['error.type', 'error.type'],
];

/**
 * The span forest as indented lines, destination and group names replaced by placeholders,
 * siblings sorted (so the order spans finished in does not matter). Pure.
 */
export function spanTreeLines(
  spans: readonly TelemetrySpan[],
  names: Readonly<Record<string, string>>,
): string[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const rename = (text: string): string =>
    Object.entries(names).reduce((out, [real, placeholder]) => out.split(real).join(placeholder), text);
  const label = (span: TelemetrySpan): string => {
    const details = TREE_ATTRIBUTES.filter(([key]) => span.attributes[key] !== undefined).map(
      ([key, short]) => `${short}=${rename(String(span.attributes[key]))}`,
    );
    if (span.attributes['omnibus.retry.delay_ms'] !== undefined) details.push('delay');
    if (span.links.length > 0) details.push(`links=${String(span.links.length)}`);
    if (span.status === 'error') details.push('status=error');
    return `${rename(span.name)} [${span.kind}]${details.length > 0 ? ` ${details.join(' ')}` : ''}`;
  };
  const render = (span: TelemetrySpan, depth: number): string[] => {
    const children = spans
      .filter((s) => s.parentSpanId === span.spanId)
      .map((s) => render(s, depth + 1))
      .sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''));
    return [`${'  '.repeat(depth)}${label(span)}`, ...children.flat()];
  };
  return spans
    .filter((s) => s.parentSpanId === undefined || !ids.has(s.parentSpanId))
    .map((s) => render(s, 0))
    .sort((a, b) => (a[0] ?? '').localeCompare(b[0] ?? ''))
    .flat();
}

/** The backlog gauge: its value depends on when the broker reflects settlement, so T1 checks it apart. */
export const BACKLOG_METRIC = 'omnibus.consumer.backlog';

/** Metric points of the given destinations as sorted `name{attr=value,…}=value` lines (backlog apart). Pure. */
export function metricLines(
  points: readonly TelemetryPoint[],
  names: Readonly<Record<string, string>>,
): string[] {
  return points
    .filter(
      (p) =>
        p.name !== BACKLOG_METRIC && names[String(p.attributes['messaging.destination.name'])] !== undefined,
    )
    .map((p) => {
      const attributes = POINT_ATTRIBUTES.filter(([key]) => p.attributes[key] !== undefined).map(
        ([key, short]) => `${short}=${names[String(p.attributes[key])] ?? String(p.attributes[key])}`,
      );
      return `${p.name}{${attributes.join(',')}}=${String(p.value)}`;
    })
    .sort();
}

/** The tree every transport must produce for the T1 scenario. */
export const T1_EXPECTED_TREE: readonly string[] = [
  'contract root [internal]',
  '  send D [producer] op=send',
  '    process D [consumer] op=process attempt=1 outcome=retried reason=HANDLER_FAILED error.type=Error delay status=error',
  '    process D [consumer] op=process attempt=2 outcome=acked',
  '      handler work [internal]',
  '      send F [producer] op=send',
  '        process F [consumer] op=process attempt=1 outcome=acked',
  'send D [producer] op=send',
  '  process D [consumer] op=process attempt=1 outcome=dead-lettered reason=UNRECOVERABLE error.type=UNRECOVERABLE status=error',
];

/** The metric points every transport must produce for the T1 scenario. */
export const T1_EXPECTED_METRICS: readonly string[] = [
  'messaging.client.consumed.messages{dest=D,group=G}=3',
  'messaging.client.consumed.messages{dest=F,group=G}=1',
  'messaging.client.operation.duration{dest=D}=2',
  'messaging.client.operation.duration{dest=F}=1',
  'messaging.client.sent.messages{dest=D}=2',
  'messaging.client.sent.messages{dest=F}=1',
  'messaging.process.duration{dest=D,group=G,outcome=acked}=1',
  'messaging.process.duration{dest=D,group=G,outcome=dead-lettered,error.type=UNRECOVERABLE}=1',
  'messaging.process.duration{dest=D,group=G,outcome=retried,error.type=Error}=1',
  'messaging.process.duration{dest=F,group=G,outcome=acked}=1',
  'omnibus.handlers.in_flight{dest=D,group=G}=0',
  'omnibus.handlers.in_flight{dest=F,group=G}=0',
  'omnibus.messages.dead_lettered{dest=D,group=G,reason=UNRECOVERABLE}=1',
  'omnibus.messages.retried{dest=D,group=G,outcome=retried,error.type=Error}=1',
].sort();

/**
 * The backlog gauge has one point per group, with the transport's declared kind, and reads 0 once
 * everything settled (polled: settlement and broker counts land asynchronously, and the plugin
 * reuses a reading for up to 5 s); no point when the transport does not declare `backlog`.
 */
async function expectBacklogPoints(
  ctx: CaseContext,
  session: TelemetrySession,
  names: Readonly<Record<string, string>>,
): Promise<void> {
  const capability = ctx.capabilities.backlog;
  let lines: string[] = [];
  const read = async (): Promise<string[]> =>
    (await session.metrics())
      .filter(
        (p) =>
          p.name === BACKLOG_METRIC &&
          names[String(p.attributes['messaging.destination.name'])] !== undefined,
      )
      .map(
        (p) =>
          `${names[String(p.attributes['messaging.destination.name'])] ?? '?'}/${names[String(p.attributes['messaging.consumer.group.name'])] ?? '?'} kind=${String(p.attributes['omnibus.backlog.kind'])} approximate=${String(p.attributes['omnibus.backlog.approximate'])} =${String(p.value)}`,
      )
      .sort();
  if (capability === undefined) {
    expect(await read(), 'no backlog points without the backlog capability').to.deep.equal([]);
    return;
  }
  const expected = ['D', 'F'].map(
    (d) => `${d}/G kind=${capability.kind} approximate=${String(capability.approximate)} =0`,
  );
  await ctx.waitFor(
    async () => {
      lines = await read();
      return JSON.stringify(lines) === JSON.stringify(expected);
    },
    'backlog gauge points of both groups at 0',
    20_000,
    () => lines.join('; '),
  );
}

/** T. Telemetry parity: the same spans and metric points on every transport (optional hook). */
export const telemetryCases: ContractCaseGroup = {
  letter: 'T',
  title: 'telemetry parity',
  cases: [
    {
      id: 'T1',
      rules: [4, 5, 9, 16],
      title:
        'with OpenTelemetry, publish → fail once → retry → ack (publishing a follow-up from the handler) and a poison message → dead-letter give the same span tree and metric points as on every transport',
      timeoutMs: 30_000,
      requires: (_capabilities, options) =>
        options.telemetry === undefined ? 'no telemetry harness given (option telemetry)' : undefined,
      async run(ctx) {
        const harness = ctx.options.telemetry;
        if (harness === undefined) throw new Error('no telemetry harness');
        const destination = ctx.name('d');
        const followDestination = ctx.name('f');
        const group = ctx.name('g');
        const Order = defineEvent<{ poison: boolean }>(`${ctx.name('order')}.v1`, { destination });
        const Followed = defineEvent<{ ok: true }>(`${ctx.name('followed')}.v1`, {
          destination: followDestination,
        });
        const session = await harness.open();
        const retry = { maxAttempts: 3, initialDelayMs: 50, multiplier: 1, maxDelayMs: 50, jitter: 0 };
        class OrderHandler {
          @EventHandler(Order, { group, retry })
          async handle(payload: { poison: boolean }, context: HandlerContext): Promise<void> {
            if (payload.poison) throw new UnrecoverableError('poison order');
            if (context.deliveryAttempt === 1) throw new Error('flaky once');
            await session.inSpan('handler work', () => Promise.resolve());
            await bus.publish(Followed, { ok: true });
          }
        }
        class FollowHandler {
          @EventHandler(Followed, { group, retry })
          handle(): Promise<void> {
            return Promise.resolve();
          }
        }
        const transport = await ctx.options.createTransport();
        ctx.adopt(transport);
        const bus = createEventBus({
          transport,
          handlers: [OrderHandler, FollowHandler],
          events: [Order, Followed],
          plugins: [session.plugin],
        });
        const settled: MessageSettledEvent[] = [];
        bus.on('message.settled', (event) => {
          settled.push(event);
        });
        try {
          await bus.start();
          const ok = await session.inSpan('contract root', () => bus.publish(Order, { poison: false }));
          const poison = await bus.publish(Order, { poison: true });
          await ctx.waitFor(
            () => settled.length >= 4,
            'retry, ack, dead-letter and the follow-up ack',
            20_000,
          );
          await ctx.waitFor(() => session.spans().length >= 9, 'nine finished spans', 5_000);
          const names = { [destination]: 'D', [followDestination]: 'F', [group]: 'G' };
          const spans = session.spans();
          expect(spanTreeLines(spans, names), 'span tree').to.deep.equal(T1_EXPECTED_TREE);
          expect(metricLines(await session.metrics(), names), 'metric points').to.deep.equal(
            T1_EXPECTED_METRICS,
          );
          await expectBacklogPoints(ctx, session, names);
          const messaging = spans.filter((s) => s.kind === 'producer' || s.kind === 'consumer');
          const systems = new Set(messaging.map((s) => s.attributes['messaging.system']));
          expect(systems.size, 'one messaging.system').to.equal(1);
          expect([...systems][0], 'messaging.system')
            .to.be.a('string')
            .and.not.equal('');
          const okSpans = messaging.filter((s) => s.attributes['messaging.message.id'] === ok.id);
          expect(okSpans.map((s) => s.kind).sort(), 'spans of the first order').to.deep.equal([
            'consumer',
            'consumer',
            'producer',
          ]);
          const root = spans.find((s) => s.name === 'contract root');
          expect(
            spans.filter((s) => s.traceId === root?.traceId).length,
            "spans in the first order's trace",
          ).to.equal(7);
          const follow = messaging.find(
            (s) => s.kind === 'consumer' && s.attributes['messaging.destination.name'] === followDestination,
          );
          expect(follow?.attributes['messaging.message.conversation_id'], 'conversation id').to.equal(ok.id);
          for (const span of messaging.filter((s) => s.kind === 'consumer'))
            expect(span.attributes['messaging.consumer.group.name'], 'consumer group').to.equal(group);
          const dead = messaging.find((s) => s.attributes['omnibus.settlement.outcome'] === 'dead-lettered');
          expect(dead?.attributes['messaging.message.id'], 'dead-lettered message').to.equal(poison.id);
          await ctx.readDeadLetters(destination, group, 1);
        } finally {
          await bus.stop({ drainTimeoutMs: ctx.ms(2_000) });
          await session.close();
        }
      },
    },
  ],
};
