import 'reflect-metadata';
import {
  createEventBus,
  EventBus,
  loadConfigFromEnv,
  type EventBusConfig,
  type PayloadOf,
  type TransportSelection,
} from '@omnibus/core';
import { MessageSpy, type SpyRecord } from '@omnibus/core/testing';
import { InversifyHandlerResolver } from '@omnibus/di-inversify';
import { Container } from 'inversify';
import { randomBytes } from 'node:crypto';
import { BillingHandler } from './billing-handler.js';
import { OrderPlaced, PaymentFailed, ShipmentDispatched } from './events.js';
import { LOCAL_BROKER_OPTIONS } from './local-brokers.js';
import { NotificationHandler } from './notification-handler.js';
import { directOrderPlacer, OUTBOX_URL_VARIABLE, outboxOrderPlacer } from './order-outbox.js';
import { config } from './omnibus-config.js';
import { PaymentGateway } from './payment-gateway.js';
import { ShippingHandler } from './shipping-handler.js';
import { orderIdOf, printTrace } from './trace-printer.js';

const run = randomBytes(2).toString('hex');
const orders: PayloadOf<typeof OrderPlaced>[] = [
  { orderId: `A-${run}`, customer: 'Ada', amountCents: 4_200, card: '4111-0001' },
  { orderId: `B-${run}`, customer: 'Brian', amountCents: 1_999, card: '4111-0002' }, // provider times out once
  { orderId: `C-${run}`, customer: 'Chen', amountCents: 12_500, card: '4111-0003' }, // provider keeps failing: poison
  { orderId: `D-${run}`, customer: 'Dana', amountCents: 800, card: '4111-0004' }, // declined
];

/** The environment's transport selection (one, or several with OMNIBUS_TRANSPORTS), pointed at the local brokers. */
function transportFromEnvironment(): {
  readonly name: string;
  readonly config: Pick<EventBusConfig, 'transport' | 'transports' | 'routes'>;
} {
  const { transport, transports, routes } = loadConfigFromEnv(process.env);
  const local = (selection: TransportSelection): TransportSelection => ({
    name: selection.name,
    options: { ...(LOCAL_BROKER_OPTIONS[selection.name] ?? {}), ...(selection.options ?? {}) },
  });
  const several = Object.entries(transports ?? {});
  const name =
    several.length === 0
      ? (transport?.name ?? 'in-memory')
      : `multi (${several.map(([alias, selection]) => `${alias}=${selection.name}`).join(', ')})`;
  return {
    name,
    config: {
      ...(transport === undefined ? {} : { transport: local(transport) }),
      ...(several.length === 0
        ? {}
        : { transports: Object.fromEntries(several.map(([alias, selection]) => [alias, local(selection)])) }),
      ...(routes === undefined ? {} : { routes }),
    },
  };
}

async function main(): Promise<void> {
  const transport = transportFromEnvironment();
  const container = new Container();
  container.bind(PaymentGateway).toSelf().inSingletonScope();
  container.bind(BillingHandler).toSelf();
  container.bind(ShippingHandler).toSelf();
  container.bind(NotificationHandler).toSelf();

  // OMNIBUS_DEMO_TRACE=1: OpenTelemetry SDK with in-memory exporters, then print one order's trace.
  const tracing =
    process.env['OMNIBUS_DEMO_TRACE'] === '1'
      ? (await import('./demo-tracing.js')).startDemoTracing(process.env['OMNIBUS_DEMO_TRACE_SVG'])
      : undefined;
  const bus = createEventBus({
    ...config,
    ...transport.config,
    plugins: tracing === undefined ? [] : [tracing.plugin],
    resolver: new InversifyHandlerResolver(container),
  });
  container.bind(EventBus).toConstantValue(bus);

  const spy = new MessageSpy(bus, { capacity: 10_000 });
  const stopTrace = printTrace(bus);
  const t0 = Date.now();
  console.log(`Omnibus demo on the "${transport.name}" transport (run ${run})\n`);
  await bus.start();
  const outboxUrl = process.env[OUTBOX_URL_VARIABLE];
  const placer = outboxUrl ? await outboxOrderPlacer(bus, outboxUrl) : directOrderPlacer(bus);
  console.log(`Orders are ${placer.description}\n`);
  await placer.place(orders);

  const byOrder = (orderId: string, type: string, kind: SpyRecord['kind'], group: string) => (r: SpyRecord) =>
    r.kind === kind && r.group === group && r.envelope.type === type && orderIdOf(r.envelope) === orderId;
  const [a, b, c, d] = orders.map((o) => o.orderId) as [string, string, string, string];
  await Promise.all(
    [
      byOrder(a, ShipmentDispatched.name, 'acked', 'notifications'),
      byOrder(b, ShipmentDispatched.name, 'acked', 'notifications'),
      byOrder(c, OrderPlaced.name, 'dead-lettered', 'billing'),
      byOrder(d, PaymentFailed.name, 'acked', 'notifications'),
    ].map((criteria) => spy.waitFor(criteria, { timeoutMs: 60_000 })),
  );
  await placer.close();
  await bus.stop();
  stopTrace();

  const counts = spy.counts;
  console.log(`\nSummary after ${String(Date.now() - t0)} ms on "${transport.name}":`);
  console.log(
    `  published ${String(counts.published)}, handled ${String(counts.acked)}, retried ${String(counts.retried)}, dead-lettered ${String(counts['dead-lettered'])}`,
  );
  for (const order of orders) {
    const notes = NotificationHandler.sent.filter((n) => n.orderId === order.orderId).map((n) => n.text);
    console.log(
      `  ${order.orderId} (${order.customer}): ${notes.length > 0 ? notes.join(' → ') : 'no notification'}`,
    );
  }
  const dead = spy.filter({ outcome: 'dead-lettered' });
  for (const record of dead) {
    console.log(
      `  dead-letter: ${orderIdOf(record.envelope)} in group ${record.group ?? '?'} after ${String(record.attempt)} attempts: ${record.reason?.message ?? ''}`,
    );
  }
  // Order B: its payment fails once, is retried, then ships.
  const placedB = spy
    .filter({ outcome: 'published', type: OrderPlaced })
    .find((r) => orderIdOf(r.envelope) === b);
  spy.dispose();
  if (tracing !== undefined) await tracing.report(placedB?.envelope.id ?? '', b);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error('Demo failed:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
