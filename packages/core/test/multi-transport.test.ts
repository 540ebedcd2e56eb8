import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigurationError,
  createEventBus,
  defineEvent,
  EventHandler,
  InMemoryTransport,
  loadConfigFromEnv,
  mergeCapabilities,
  RoutedTransport,
  transportFor,
  type EventBusConfig,
  type SubscriptionInfo,
} from '../src/index.js';
import { waitFor } from '../src/testing/index.js';
import { FAKE_CAPABILITIES, FakeTransport } from './support/fake-transport.js';

const Placed = defineEvent<{ readonly orderId: string }>('multi.order-placed.v1');
const Charged = defineEvent<{ readonly orderId: string }>('multi.order-charged.v1');
const Audited = defineEvent<{ readonly orderId: string }>('multi.order-audited.v1');

const seen: string[] = [];

class Shop {
  @EventHandler(Placed, { group: 'billing' })
  async onPlaced(order: { orderId: string }): Promise<void> {
    seen.push(`placed ${order.orderId}`);
  }

  @EventHandler(Charged, { group: 'shipping' })
  async onCharged(order: { orderId: string }): Promise<void> {
    seen.push(`charged ${order.orderId}`);
  }
}

class OrderedShop {
  @EventHandler(Charged, { group: 'ledger', ordered: true })
  async onCharged(): Promise<void> {}
}

async function startError(config: EventBusConfig): Promise<ConfigurationError> {
  const bus = createEventBus(config);
  const error = await bus.start().then(
    () => undefined,
    (e: unknown) => e,
  );
  await bus.stop();
  expect(error).to.be.instanceOf(ConfigurationError);
  return error as ConfigurationError;
}

describe('several transports in one bus', () => {
  beforeEach(() => {
    seen.length = 0;
  });

  it('publishes and consumes each event on the transport its route names', async () => {
    const stream = new InMemoryTransport();
    const work = new InMemoryTransport();
    const subscribedOn: string[] = [];
    const bus = createEventBus({
      transports: { stream, work },
      routes: { [Placed.name]: 'stream', [Charged.name]: 'work' },
      handlers: [Shop],
      deliveryInterceptors: [
        async (_delivery, next, info: SubscriptionInfo) => {
          subscribedOn.push(`${info.destination}@${info.transport}`);
          return next();
        },
      ],
    });
    await bus.start();
    try {
      await bus.publish(Placed, { orderId: 'o-1' });
      await bus.publish(Charged, { orderId: 'o-1' });
      await waitFor(() => seen.length === 2);
      expect([...seen].sort()).to.deep.equal(['charged o-1', 'placed o-1']);
      // Each destination exists on its own transport's broker only.
      expect(stream.broker.has(Placed.name, 'billing')).to.equal(true);
      expect(stream.broker.hasDestination(Charged.name)).to.equal(false);
      expect(work.broker.has(Charged.name, 'shipping')).to.equal(true);
      expect(work.broker.hasDestination(Placed.name)).to.equal(false);
      expect(subscribedOn).to.have.length(2);
      expect(bus.transport).to.be.instanceOf(RoutedTransport);
      expect(transportFor(bus.transport as RoutedTransport, Placed.name)).to.equal(stream);
      expect(bus.transport?.status).to.equal('ready');
    } finally {
      await bus.stop();
    }
    expect(stream.status).to.equal('closed');
    expect(work.status).to.equal('closed');
  });

  it('two named in-memory transports by selection, the default transport carrying what is not routed', async () => {
    const bus = createEventBus({
      transport: { name: 'in-memory' },
      transports: { stream: { name: 'in-memory' } },
      routes: { [Placed.name]: 'stream' },
      handlers: [Shop],
    });
    await bus.start();
    try {
      const routed = bus.transport as RoutedTransport;
      expect([...routed.transports.keys()]).to.deep.equal(['stream', 'default']);
      expect(routed.route(Placed.name).alias).to.equal('stream');
      expect(routed.route(Charged.name).alias).to.equal('default');
      // An event first published late (not known at start) travels on the default transport.
      await bus.publish(Audited, { orderId: 'o-2' }).catch(() => undefined);
      expect(routed.route(Audited.name).alias).to.equal('default');
      await bus.publish(Placed, { orderId: 'o-2' });
      await bus.publish(Charged, { orderId: 'o-2' });
      await waitFor(() => seen.length === 2);
    } finally {
      await bus.stop();
    }
  });

  it('without a default transport, an event published late and not routed rejects with CONFIGURATION_INVALID', async () => {
    const bus = createEventBus({
      transports: { stream: new InMemoryTransport(), work: new InMemoryTransport() },
      routes: { [Placed.name]: 'stream', [Charged.name]: 'work' },
      handlers: [Shop],
    });
    await bus.start();
    try {
      const error = await bus.publish(Audited, { orderId: 'o-3' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.have.property('code', 'CONFIGURATION_INVALID');
      expect(String((error as Error).message)).to.contain(`destination "${Audited.name}" has no transport`);
    } finally {
      await bus.stop();
    }
  });

  it('checks each handler against its own transport: CAPABILITY_MISSING names event, alias and transport', async () => {
    const unordered = new FakeTransport();
    unordered.capabilities = { ...FAKE_CAPABILITIES, ordering: 'none' };
    // The ordered handler's event on the ordered transport: fine, although the other one is not.
    const fine = createEventBus({
      transports: { work: unordered, stream: new FakeTransport() },
      routes: { [Charged.name]: 'stream' },
      handlers: [OrderedShop],
    });
    await fine.start();
    await fine.stop();
    const lacking = new FakeTransport();
    lacking.capabilities = { ...FAKE_CAPABILITIES, ordering: 'none' };
    const failed = await startError({
      transports: { work: lacking, stream: new FakeTransport() },
      routes: { [Charged.name]: 'work' },
      handlers: [OrderedShop],
    });
    expect(failed.problems).to.have.length(1);
    expect(failed.problems[0]?.code).to.equal('CAPABILITY_MISSING');
    expect(failed.problems[0]?.problem).to.equal(
      `OrderedShop.onCharged (event ${Charged.name}) is ordered, but transport "work" (fake) has no per-key ordering`,
    );
  });

  it('reports every routing problem at once', async () => {
    const error = await startError({
      transports: { stream: { name: 'in-memory' }, Bad_Alias: { name: 'in-memory' }, work: { name: 'nope' } },
      routes: { [Placed.name]: 'strem', 'multi.order-plcaed.v1': 'stream' },
      events: [Placed, Charged],
      handlers: [Shop],
    });
    const text = error.problems.map((p) => `${p.code} ${p.problem} | ${p.fix}`);
    expect(text).to.have.length(6);
    expect(text[0]).to.match(
      /^CONFIGURATION_INVALID transports.Bad_Alias: "Bad_Alias" is not a valid transport alias/,
    );
    expect(text[1]).to.match(/^TRANSPORT_UNKNOWN transports.work: unknown transport "nope"/);
    expect(text[2]).to.contain(`routes["${Placed.name}"] names transport "strem", which is not configured`);
    expect(text[2]).to.contain('did you mean "stream"?');
    expect(text[3]).to.contain('routes["multi.order-plcaed.v1"]: no known event or destination');
    expect(text[3]).to.contain(`did you mean "${Placed.name}"?`);
    expect(text[4]).to.contain(
      `event ${Placed.name} (handled by Shop.onPlaced) on destination "${Placed.name}" has no transport`,
    );
    expect(text[5]).to.contain(
      `event ${Charged.name} (handled by Shop.onCharged) on destination "${Charged.name}" has no transport`,
    );
  });

  it('refuses two events of one destination routed to different transports, and a default set twice', async () => {
    const Refunded = defineEvent<{ readonly orderId: string }>('multi.order-refunded.v1', {
      destination: Placed.name,
    });
    const error = await startError({
      transport: { name: 'in-memory' },
      transports: {
        default: { name: 'in-memory' },
        stream: { name: 'in-memory' },
        work: { name: 'in-memory' },
      },
      routes: { [Placed.name]: 'stream', [Refunded.name]: 'work' },
      events: [Placed, Refunded],
    });
    expect(error.problems.map((p) => p.problem)).to.deep.equal([
      'transports.default and transport both set the default transport',
      `destination "${Placed.name}" is routed to "stream" (routes["${Placed.name}"]) and to "work" (routes["${Refunded.name}"])`,
    ]);
  });

  it('a single transport behaves as before (no routed transport)', async () => {
    const transport = new InMemoryTransport();
    const bus = createEventBus({ transport, handlers: [Shop] });
    await bus.start();
    expect(bus.transport).to.equal(transport);
    expect(transportFor(transport, Placed.name)).to.equal(transport);
    await bus.stop();
  });

  it('merged capabilities are what every transport guarantees', () => {
    const merged = mergeCapabilities([
      FAKE_CAPABILITIES,
      {
        ...FAKE_CAPABILITIES,
        ordering: 'none',
        maxPayloadBytes: 10,
        delayedDelivery: { maxDelayMs: 5, emulated: true },
        publishWithoutSubscribers: 'rejects',
        backlog: { kind: 'ready', approximate: false },
      },
    ]);
    expect(merged.ordering).to.equal('none');
    expect(merged.maxPayloadBytes).to.equal(10);
    expect(merged.delayedDelivery).to.deep.equal({ maxDelayMs: 5, emulated: true });
    expect(merged.publishWithoutSubscribers).to.equal('unchecked');
    expect(merged.backlog).to.equal(undefined);
    expect(merged.atomicBatchPublish).to.equal(true);
  });
});

describe('loadConfigFromEnv with several transports', () => {
  it('reads OMNIBUS_TRANSPORTS, OMNIBUS_TRANSPORTS_<ALIAS>_<OPTION> and OMNIBUS_ROUTES; no implicit default', () => {
    const config = loadConfigFromEnv({
      OMNIBUS_TRANSPORTS: 'stream:kafka, work:rabbitmq, work-slow:rabbitmq',
      OMNIBUS_TRANSPORTS_STREAM_BROKERS: 'localhost:9092',
      OMNIBUS_TRANSPORTS_WORK_URL: 'amqp://a',
      OMNIBUS_TRANSPORTS_WORK_SLOW_URL: 'amqp://b',
      OMNIBUS_ROUTES: 'shop.order-placed.v1=stream,shop.payment-succeeded.v1=work',
    });
    expect(config).to.deep.equal({
      transports: {
        stream: { name: 'kafka', options: { brokers: 'localhost:9092' } },
        work: { name: 'rabbitmq', options: { url: 'amqp://a' } },
        'work-slow': { name: 'rabbitmq', options: { url: 'amqp://b' } },
      },
      routes: { 'shop.order-placed.v1': 'stream', 'shop.payment-succeeded.v1': 'work' },
    });
  });

  it('reads transports and routes from the JSON file, the environment overriding it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'omnibus-multi-'));
    const file = join(dir, 'omnibus.json');
    writeFileSync(
      file,
      JSON.stringify({
        transport: 'in-memory',
        transports: { stream: { name: 'kafka', options: { brokers: 'file:9092' } }, work: 'rabbitmq' },
        routes: { 'a.v1': 'stream', 'b.v1': 'work' },
      }),
    );
    const config = loadConfigFromEnv({
      OMNIBUS_CONFIG_FILE: file,
      OMNIBUS_TRANSPORTS_STREAM_CLIENT_ID: 'svc',
      OMNIBUS_ROUTES: 'b.v1=stream',
    });
    expect(config).to.deep.equal({
      transport: { name: 'in-memory', options: {} },
      transports: {
        stream: { name: 'kafka', options: { brokers: 'file:9092', clientId: 'svc' } },
        work: { name: 'rabbitmq', options: {} },
      },
      routes: { 'a.v1': 'stream', 'b.v1': 'stream' },
    });
  });

  it('a malformed list or file entry is a ConfigurationError naming it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'omnibus-multi-'));
    const file = join(dir, 'omnibus.json');
    writeFileSync(file, JSON.stringify({ transports: { stream: 3 }, routes: { 'a.v1': 1 } }));
    let error: unknown;
    try {
      loadConfigFromEnv({ OMNIBUS_CONFIG_FILE: file, OMNIBUS_TRANSPORTS: 'stream', OMNIBUS_ROUTES: 'a.v1' });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(ConfigurationError);
    const problems = (error as ConfigurationError).problems.map((p) => p.problem);
    expect(problems).to.deep.equal([
      `OMNIBUS_CONFIG_FILE ${file}: transports.stream must be a name or { name, options }`,
      `OMNIBUS_CONFIG_FILE ${file}: routes["a.v1"] must be a transport alias (a string)`,
      'OMNIBUS_TRANSPORTS: "stream" is not of the form key:value',
      'OMNIBUS_ROUTES: "a.v1" is not of the form key=value',
    ]);
  });

  it('the environment drives a bus of two in-memory transports', async () => {
    const bus = createEventBus({
      ...loadConfigFromEnv({
        OMNIBUS_TRANSPORTS: 'stream:in-memory,work:in-memory',
        OMNIBUS_TRANSPORTS_WORK_MAX_PAYLOAD_BYTES: '64',
        OMNIBUS_ROUTES: `${Placed.name}=stream,${Charged.name}=work`,
      }),
      handlers: [Shop],
    });
    await bus.start();
    try {
      // Publish checks use the destination's own transport: 64 bytes on work, 1 MiB on stream.
      const big = { orderId: 'x'.repeat(100) };
      await bus.publish(Placed, big);
      const error = await bus.publish(Charged, big).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).to.have.property('code', 'PAYLOAD_TOO_LARGE');
      await waitFor(() => seen.includes(`placed ${big.orderId}`));
    } finally {
      await bus.stop();
    }
  });
});

describe('header filters through a routed transport', () => {
  const topology = {
    destinations: [
      { name: 'a', groups: [{ name: 'g', ordered: false, headerFilters: [{ region: 'eu' }] }] },
      { name: 'b', groups: [{ name: 'g', ordered: false, headerFilters: [{ region: 'us' }] }] },
    ],
  };
  const routed = (second: FakeTransport): { first: FakeTransport; transport: RoutedTransport } => {
    const first = new FakeTransport({ headerFilters: 'broker' });
    const transport = new RoutedTransport({
      transports: new Map([
        ['one', first],
        ['two', second],
      ]),
      destinations: new Map([
        ['a', 'one'],
        ['b', 'two'],
      ]),
    });
    return { first, transport };
  };

  it('forwards the filters and declares broker when every transport pushes them down', async () => {
    const second = new FakeTransport({ headerFilters: 'broker' });
    const { first, transport } = routed(second);
    expect(transport.capabilities.headerFilters).to.equal('broker');
    await transport.provision(topology);
    expect(first.provisioned[0]?.destinations[0]?.groups[0]?.headerFilters).to.deep.equal([{ region: 'eu' }]);
    expect(second.provisioned[0]?.destinations[0]?.groups[0]?.headerFilters).to.deep.equal([
      { region: 'us' },
    ]);
  });

  it('forwards none and declares router when one transport filters in the router', async () => {
    const second = new FakeTransport();
    const { first, transport } = routed(second);
    expect(transport.capabilities.headerFilters).to.equal(undefined);
    await transport.provision(topology);
    expect(first.provisioned[0]?.destinations[0]?.groups[0]).to.deep.equal({ name: 'g', ordered: false });
    expect(second.provisioned[0]?.destinations[0]?.groups[0]).to.deep.equal({ name: 'g', ordered: false });
  });
});
