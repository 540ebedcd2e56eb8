import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigurationError,
  createEventBus,
  defineEvent,
  EventHandler,
  findTransportProvider,
  isOmnibusError,
  loadConfigFromEnv,
  transportExportName,
  type EventBusConfig,
  type TransportProvider,
} from '../src/index.js';
import { FakeTransport } from './support/fake-transport.js';
import { OrderPlacedEvent, PaymentTaken } from './support/handlers.js';

const fakeProvider: TransportProvider = {
  name: 'fake',
  packageName: '@omnibus/transport-fake',
  optionSchema: {
    url: { type: 'string', required: true, secret: false, description: 'broker URL, e.g. fake://localhost' },
    prefetch: { type: 'integer', min: 1, default: 10, description: 'messages fetched ahead' },
  },
  create: () => new FakeTransport(),
};

async function startError(config: EventBusConfig): Promise<ConfigurationError> {
  const bus = createEventBus(config);
  try {
    await bus.start();
  } catch (error) {
    expect(error).to.be.instanceOf(ConfigurationError);
    expect(isOmnibusError(error) && error.code).to.equal('CONFIGURATION_INVALID');
    expect(bus.status).to.equal('stopped');
    return error as ConfigurationError;
  }
  await bus.stop();
  throw new Error('start() should have failed');
}

class Billing {
  @EventHandler(OrderPlacedEvent, { group: 'billing' })
  async onPlaced(): Promise<void> {}
}

describe('configuration errors at start', () => {
  it('unknown transport: lists known transports and the package to install', async () => {
    const error = await startError({ transport: { name: 'nope' }, providers: [fakeProvider] });
    expect(error.problems).to.have.length(1);
    expect(error.problems[0]?.code).to.equal('TRANSPORT_UNKNOWN');
    expect(error.message).to.contain('unknown transport "nope"');
    expect(error.message).to.contain('@omnibus/transport-nope is not installed');
    expect(error.message).to.match(/known transports: fake, in-memory, rabbitmq, kafka, sqs, azure/);
    expect(error.message).to.contain(
      'fix: install @omnibus/transport-nope (npm install @omnibus/transport-nope)',
    );
  });

  it('misspelled transport: suggests the closest known name, not a package that does not exist', async () => {
    const error = await startError({ transport: { name: 'rabitmq' }, providers: [fakeProvider] });
    expect(error.problems[0]?.code).to.equal('TRANSPORT_UNKNOWN');
    expect(error.message).to.contain('unknown transport "rabitmq" — did you mean "rabbitmq"?');
    expect(error.message).to.contain('fix: use "rabbitmq" (OMNIBUS_TRANSPORT=rabbitmq)');
    expect(error.message).to.not.contain('@omnibus/transport-rabitmq');
    const far = await startError({ transport: { name: 'bogus' }, providers: [fakeProvider] });
    expect(far.message).to.not.contain('did you mean');
  });

  it('swapped letters count as one typo: "nast" suggests "nats", not a package @omnibus/transport-nast', async () => {
    const error = await startError({ transport: { name: 'nast' }, providers: [fakeProvider] });
    expect(error.message).to.contain('unknown transport "nast" — did you mean "nats"?');
    expect(error.message).to.not.contain('@omnibus/transport-nast');
  });

  it('misspelled option: suggests the closest option and its environment variable', async () => {
    const error = await startError({
      transport: { name: 'fake', options: { url: 'fake://x', prefech: 5 } },
      providers: [fakeProvider],
    });
    expect(error.message).to.contain('transport.options.prefech is not a known option');
    expect(error.message).to.contain('fix: did you mean "prefetch" (OMNIBUS_FAKE_PREFETCH)?');
  });

  it('missing required option: names the option, its env variable and what it is', async () => {
    const error = await startError({ transport: { name: 'fake', options: {} }, providers: [fakeProvider] });
    expect(error.problems).to.have.length(1);
    expect(error.message).to.contain('transport.options.url is required: broker URL');
    expect(error.message).to.contain('OMNIBUS_FAKE_URL');
  });

  it('wrong option type: names the option, the expected type and the value received', async () => {
    const error = await startError({
      transport: { name: 'fake', options: { url: 'fake://x', prefetch: 'lots', colour: 1 } },
      providers: [fakeProvider],
    });
    expect(error.problems).to.have.length(2);
    expect(error.message).to.contain('transport.options.prefetch must be an integer, got "lots"');
    expect(error.message).to.contain(
      'set transport.options.prefetch (or OMNIBUS_FAKE_PREFETCH) to an integer',
    );
    expect(error.message).to.contain('transport.options.colour is not a known option');
  });

  it('handler for an event that is not registered in `events`', async () => {
    const error = await startError({
      transport: new FakeTransport(),
      events: [PaymentTaken],
      handlers: [Billing],
    });
    expect(error.problems.map((p) => p.code)).to.deep.equal(['EVENT_UNKNOWN']);
    expect(error.message).to.contain(
      'Billing.onPlaced handles event "test.order-placed.v1", which is not in the configured `events`',
    );
    expect(error.message).to.contain("fix: add test.order-placed.v1's definition to `events`");
  });

  it('handler given undefined instead of an event (circular import)', async () => {
    class Broken {
      @EventHandler(undefined as never, { group: 'g' })
      async on(): Promise<void> {}
    }
    const error = await startError({ transport: new FakeTransport(), handlers: [Broken] });
    expect(error.message).to.contain('Broken.on was given undefined instead of an event definition');
    expect(error.message).to.contain('circular import');
  });

  it('duplicate handler registration: same class twice, and the same event+group twice', async () => {
    class OtherBilling {
      @EventHandler(OrderPlacedEvent, { group: 'billing' })
      async again(): Promise<void> {}
    }
    const error = await startError({
      transport: new FakeTransport(),
      handlers: [Billing, Billing, OtherBilling],
    });
    expect(error.problems.map((p) => p.code)).to.deep.equal(['HANDLER_DUPLICATE', 'HANDLER_DUPLICATE']);
    expect(error.message).to.contain('handler class Billing is registered more than once');
    expect(error.message).to.contain('fix: list Billing once in `handlers`');
    expect(error.message).to.contain(
      'OtherBilling.again and Billing.onPlaced both handle "test.order-placed.v1" in group "billing"',
    );
    expect(error.message).to.contain('give one of them a different `group`');
  });

  it('bad handler options and a missing group, all at once with the transport problems', async () => {
    class Bad {
      @EventHandler(OrderPlacedEvent, { concurrency: 0, retry: { maxAttempts: 0 } })
      async on(): Promise<void> {}
    }
    class NotAHandler {}
    const error = await startError({
      transport: { name: 'fake' },
      providers: [fakeProvider],
      handlers: [Bad, NotAHandler, 'x' as never],
    });
    const text = error.message;
    expect(text).to.contain('Bad.on: no consumer group');
    expect(text).to.contain(
      "fix: set @EventHandler(event, { group: 'my-service' }) on Bad.on, or `defaults.group`",
    );
    expect(text).to.contain('Bad.on: concurrency must be an integer ≥ 1, got 0');
    expect(text).to.contain('Bad.on: retry.maxAttempts must be an integer ≥ 1, got 0');
    expect(text).to.contain('class NotAHandler has no @EventHandler methods');
    expect(text).to.contain('handlers[2] is string, not a class');
    expect(text).to.contain('transport.options.url is required');
    expect(error.problems).to.have.length(6);
  });

  it('a handler needing a capability the transport lacks fails at start with CAPABILITY_MISSING', async () => {
    class Ordered {
      @EventHandler(OrderPlacedEvent, { group: 'o', ordered: true, retry: { maxDelayMs: 120_000 } })
      async on(): Promise<void> {}
    }
    const transport = new FakeTransport({ ordering: 'none', maxRetryDelayMs: 60_000 });
    const error = await startError({ transport, handlers: [Ordered] });
    expect(error.problems.map((p) => p.code)).to.deep.equal(['CAPABILITY_MISSING', 'CAPABILITY_MISSING']);
    expect(error.message).to.contain('Ordered.on is ordered, but transport "fake" has no per-key ordering');
    expect(error.message).to.contain('set retry.maxDelayMs ≤ 60000');
    expect(transport.connectCalls).to.equal(0);
  });

  it('the built-in retry cap is lowered to the transport limit; an explicit one that does not fit is a problem', async () => {
    class Defaulted {
      @EventHandler(OrderPlacedEvent, { group: 'defaulted' })
      on(): void {}
    }
    const transport = new FakeTransport({ maxRetryDelayMs: 5000 });
    const bus = createEventBus({ transport, handlers: [Defaulted] });
    await bus.start();
    await bus.stop();
    const error = await startError({
      transport: new FakeTransport({ maxRetryDelayMs: 5000 }),
      handlers: [Defaulted],
      defaults: { retry: { maxDelayMs: 60_000 } },
    });
    expect(error.problems.map((p) => p.code)).to.deep.equal(['CAPABILITY_MISSING']);
    expect(error.message).to.contain(
      'Defaulted.on retries up to 60000 ms apart, but transport "fake" supports retry delays up to 5000 ms',
    );
  });

  it('handlers sharing a destination and group must agree on concurrency', async () => {
    const A = defineEvent('test.shared.a', { destination: 'test.shared' });
    const B = defineEvent('test.shared.b', { destination: 'test.shared' });
    class Shared {
      @EventHandler(A, { group: 'g', concurrency: 1 })
      async a(): Promise<void> {}
      @EventHandler(B, { group: 'g', concurrency: 2 })
      async b(): Promise<void> {}
    }
    const error = await startError({ transport: new FakeTransport(), handlers: [Shared] });
    expect(error.message).to.contain(
      'consume destination "test.shared" in group "g" with different concurrency/ordered settings',
    );
  });
});

describe('transport lookup', () => {
  it('derives export names and finds the built-in in-memory transport lazily (or reports it missing)', async () => {
    expect(transportExportName('in-memory')).to.equal('inMemoryTransport');
    expect(transportExportName('rabbitmq')).to.equal('rabbitmqTransport');
    const result = await findTransportProvider('in-memory');
    if (result.found) expect(result.provider.name).to.equal('in-memory');
    else expect(result.reason).to.contain('inMemoryTransport');
  });

  it('prefers given providers and rejects invalid names without importing', async () => {
    const found = await findTransportProvider('fake', [fakeProvider]);
    expect(found.found && found.provider).to.equal(fakeProvider);
    const invalid = await findTransportProvider('../../etc');
    expect(!invalid.found && invalid.reason).to.contain('not a valid transport name');
  });
});

describe('loadConfigFromEnv', () => {
  it('defaults to in-memory', () => {
    expect(loadConfigFromEnv({})).to.deep.equal({ transport: { name: 'in-memory', options: {} } });
  });

  it('reads OMNIBUS_TRANSPORT and OMNIBUS_<NAME>_<OPTION> in camelCase', () => {
    const config = loadConfigFromEnv({
      OMNIBUS_TRANSPORT: 'rabbitmq',
      OMNIBUS_RABBITMQ_URL: 'amqp://x',
      OMNIBUS_RABBITMQ_PREFETCH_COUNT: '5',
      OMNIBUS_KAFKA_BROKERS: 'ignored',
    });
    expect(config.transport).to.deep.equal({
      name: 'rabbitmq',
      options: { url: 'amqp://x', prefetchCount: '5' },
    });
  });

  it('reads a JSON file, with environment variables taking precedence', () => {
    const dir = mkdtempSync(join(tmpdir(), 'omnibus-config-'));
    const file = join(dir, 'omnibus.json');
    writeFileSync(
      file,
      JSON.stringify({
        transport: { name: 'fake', options: { url: 'fake://file', prefetch: 3 } },
        defaults: { group: 'svc' },
      }),
    );
    const config = loadConfigFromEnv({ OMNIBUS_CONFIG_FILE: file, OMNIBUS_FAKE_PREFETCH: '7' });
    expect(config).to.deep.equal({
      transport: { name: 'fake', options: { url: 'fake://file', prefetch: '7' } },
      defaults: { group: 'svc' },
    });
  });

  it('env options are coerced and validated by the provider at start', async () => {
    const env = loadConfigFromEnv({
      OMNIBUS_TRANSPORT: 'fake',
      OMNIBUS_FAKE_URL: 'fake://x',
      OMNIBUS_FAKE_PREFETCH: 'many',
    });
    const error = await startError({ ...env, providers: [fakeProvider] });
    expect(error.message).to.contain('transport.options.prefetch must be an integer, got "many"');
  });

  it('reports an unreadable or malformed file', () => {
    expect(() => loadConfigFromEnv({ OMNIBUS_CONFIG_FILE: '/nonexistent/omnibus.json' })).to.throw(
      ConfigurationError,
      /OMNIBUS_CONFIG_FILE \/nonexistent\/omnibus.json/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'omnibus-config-'));
    const file = join(dir, 'bad.json');
    writeFileSync(file, '[1,2]');
    expect(() => loadConfigFromEnv({ OMNIBUS_CONFIG_FILE: file })).to.throw(/does not hold a JSON object/);
  });
});
