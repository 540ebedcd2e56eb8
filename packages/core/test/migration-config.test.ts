// Selecting the migration transport from configuration: `{ name: 'migration', options: { from,
// to, phase, claims… } }` in code, the JSON file and the environment; every problem reported
// at once with its fix (docs/guides/migrating-brokers.md).
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
  InProcessMigrationClaims,
  loadConfigFromEnv,
  type EventBusConfig,
  type SubscriptionInfo,
} from '../src/index.js';
import { waitFor } from '../src/testing/index.js';

const Paid = defineEvent<{ readonly n: number }>('migcfg.order-paid.v1');
const Shipped = defineEvent<{ readonly n: number }>('migcfg.order-shipped.v1');
const handled: string[] = [];

class Billing {
  @EventHandler(Paid, { group: 'billing' })
  paid(payload: { n: number }): void {
    handled.push(`paid ${String(payload.n)}`);
  }

  @EventHandler(Shipped, { group: 'billing' })
  shipped(payload: { n: number }): void {
    handled.push(`shipped ${String(payload.n)}`);
  }
}

/** Start a bus from `config`, publish one Paid (and one Shipped), and return the transports that delivered them. */
async function roundTrip(config: EventBusConfig, until: () => boolean = () => true): Promise<string[]> {
  handled.length = 0;
  const via: string[] = [];
  const bus = createEventBus({
    ...config,
    handlers: [Billing],
    deliveryInterceptors: [
      async (_delivery, next, info: SubscriptionInfo) => {
        via.push(`${info.destination}@${info.transport}`);
        return next();
      },
    ],
  });
  await bus.start();
  try {
    await bus.publish(Paid, { n: 1 });
    await bus.publish(Shipped, { n: 2 });
    await waitFor(() => handled.length === 2 && until());
  } finally {
    await bus.stop();
  }
  expect([...handled].sort()).to.deep.equal(['paid 1', 'shipped 2']);
  return [...new Set(via)].sort();
}

async function startError(config: EventBusConfig): Promise<ConfigurationError> {
  const bus = createEventBus({ ...config, handlers: [Billing] });
  const error = await bus.start().then(
    () => undefined,
    (e: unknown) => e,
  );
  await bus.stop();
  expect(error).to.be.instanceOf(ConfigurationError);
  return error as ConfigurationError;
}

const problemsOf = (error: ConfigurationError): string[] =>
  error.problems.map((p) => `${p.problem} | fix: ${p.fix}`);

describe('selecting the migration transport from configuration', () => {
  it('builds it from { name: "migration", options: { from, to, phase } }: each message handled once', async () => {
    const via = await roundTrip({
      transport: {
        name: 'migration',
        options: {
          from: 'in-memory',
          to: { name: 'in-memory', options: { prefetch: 4 } },
          phase: 'dual-write',
        },
      },
    });
    expect(via).to.deep.equal([
      'migcfg.order-paid.v1@migrate(in-memory→in-memory)',
      'migcfg.order-shipped.v1@migrate(in-memory→in-memory)',
    ]);
  });

  it('from and to may name aliases of `transports`; the migration is routed like any transport', async () => {
    const via = await roundTrip({
      transports: {
        work: { name: 'in-memory' },
        stream: { name: 'in-memory', options: { prefetch: 4 } },
        moving: { name: 'migration', options: { from: 'work', to: 'stream', phase: 'drain' } },
      },
      routes: { [Paid.name]: 'moving', [Shipped.name]: 'stream' },
    });
    expect(via).to.deep.equal([
      'migcfg.order-paid.v1@migrate(in-memory→in-memory)',
      'migcfg.order-shipped.v1@in-memory',
    ]);
  });

  it('takes a MigrationClaims instance in code, and claimsWindow for the in-process store', async () => {
    const claims = new InProcessMigrationClaims();
    let asked = 0;
    const counting = {
      claim: (...args: Parameters<InProcessMigrationClaims['claim']>) => {
        asked += 1;
        return claims.claim(...args);
      },
    };
    await roundTrip(
      {
        transport: {
          name: 'migration',
          options: {
            from: 'in-memory',
            to: { name: 'in-memory', options: { prefetch: 2 } },
            phase: 'dual-write',
            claims: counting,
          },
        },
      },
      () => asked === 4,
    );
    expect(asked, 'both copies of both messages claimed').to.equal(4);
    await roundTrip({
      transport: {
        name: 'migration',
        options: {
          from: 'in-memory',
          to: { name: 'in-memory', options: { prefetch: 2 } },
          phase: 'cut-over',
          claimsWindow: '10',
        },
      },
    });
  });

  it('reports every problem at once, each with its option, environment variable and fix', async () => {
    const error = await startError({
      transport: {
        name: 'migration',
        options: {
          claimUrl: 'postgres://db',
          to: 'in-memory',
          phase: 'dual-writes',
          claims: 'postgres',
          claimsWindow: 5,
        },
      },
    });
    const problems = problemsOf(error);
    expect(problems).to.have.length(5);
    expect(problems[0]).to.match(
      /transport \(migration\): unknown option "claimUrl".*did you mean "claimsUrl" \(OMNIBUS_MIGRATION_CLAIMS_URL\)/,
    );
    expect(problems[1]).to.match(
      /options.phase "dual-writes" is not a phase.*OMNIBUS_MIGRATION_PHASE.*dual-write, drain, cut-over/,
    );
    expect(problems[2]).to.match(/options.from is missing.*OMNIBUS_MIGRATION_FROM/);
    expect(problems[3]).to.match(/claimsWindow only applies to the in-process claim store/);
    expect(problems[4]).to.match(
      /claims is "postgres" but options.claimsUrl is missing.*OMNIBUS_MIGRATION_CLAIMS_URL/,
    );
  });

  it('refuses a side that is the same transport, itself a migration, a Transport instance alias, or unknown', async () => {
    expect(
      problemsOf(
        await startError({
          transport: { name: 'migration', options: { from: 'in-memory', to: 'in-memory', phase: 'drain' } },
        }),
      ),
    ).to.satisfy((p: string[]) => p.length === 1 && /from and to are the same transport/.test(p[0] ?? ''));
    const aliased = problemsOf(
      await startError({
        transports: {
          old: new InMemoryTransport(),
          moving: {
            name: 'migration',
            options: { from: 'old', to: { name: 'migration' }, phase: 'cut-over', claims: 'redis' },
          },
        },
        routes: { [Paid.name]: 'moving', [Shipped.name]: 'moving' },
      }),
    );
    expect(aliased).to.have.length(3);
    expect(aliased[0]).to.match(
      /transports\.moving \(migration\): options.from names transports.old, which is a Transport instance/,
    );
    expect(aliased[1]).to.match(/options.to is itself a migration/);
    expect(aliased[2]).to.match(
      /options.claims "redis" is not a claim store.*OMNIBUS_TRANSPORTS_MOVING_CLAIMS/,
    );
    const unknown = await startError({
      transport: { name: 'migration', options: { from: 'in-memory', to: 'kafak', phase: 'drain' } },
    });
    expect(unknown.problems[0]?.problem).to.match(/^transport\.options\.to: unknown transport "kafak"/);
  });
});

describe('loadConfigFromEnv and the migration transport', () => {
  it('OMNIBUS_TRANSPORT=migration: sides by name with OMNIBUS_<NAME>_* overridden by OMNIBUS_MIGRATION_FROM_/TO_*', async () => {
    const config = loadConfigFromEnv({
      OMNIBUS_TRANSPORT: 'migration',
      OMNIBUS_MIGRATION_FROM: 'in-memory',
      OMNIBUS_MIGRATION_TO: 'in-memory',
      OMNIBUS_MIGRATION_PHASE: 'dual-write',
      OMNIBUS_IN_MEMORY_PREFETCH: '8',
      OMNIBUS_MIGRATION_TO_PREFETCH: '3',
      OMNIBUS_MIGRATION_CLAIMS_WINDOW: '1000',
    });
    expect(config.transport).to.deep.equal({
      name: 'migration',
      options: {
        from: { name: 'in-memory', options: { prefetch: '8' } },
        to: { name: 'in-memory', options: { prefetch: '3' } },
        phase: 'dual-write',
        claimsWindow: '1000',
      },
    });
    await roundTrip(config);
  });

  it('the JSON file selects a migration between aliases; OMNIBUS_TRANSPORTS_<ALIAS>_PHASE overrides its phase', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'omnibus-migcfg-')), 'omnibus.json');
    writeFileSync(
      file,
      JSON.stringify({
        transports: {
          work: 'in-memory',
          stream: { name: 'in-memory', options: { prefetch: 4 } },
          moving: { name: 'migration', options: { from: 'work', to: 'stream', phase: 'dual-write' } },
        },
        routes: { [Paid.name]: 'moving', [Shipped.name]: 'moving' },
      }),
    );
    const config = loadConfigFromEnv({ OMNIBUS_CONFIG_FILE: file, OMNIBUS_TRANSPORTS_MOVING_PHASE: 'drain' });
    expect(config.transports?.['moving']).to.deep.equal({
      name: 'migration',
      options: { from: 'work', to: 'stream', phase: 'drain' },
    });
    const via = await roundTrip(config);
    expect(via).to.deep.equal([
      'migcfg.order-paid.v1@migrate(in-memory→in-memory)',
      'migcfg.order-shipped.v1@migrate(in-memory→in-memory)',
    ]);
  });

  it('side options set for a side that names an alias are a ConfigurationError naming the alias variables', () => {
    let caught: unknown;
    try {
      loadConfigFromEnv({
        OMNIBUS_TRANSPORTS: 'old:in-memory,moving:migration',
        OMNIBUS_TRANSPORTS_MOVING_FROM: 'old',
        OMNIBUS_TRANSPORTS_MOVING_FROM_PREFETCH: '2',
        OMNIBUS_TRANSPORTS_MOVING_TO: 'in-memory',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).to.be.instanceOf(ConfigurationError);
    expect((caught as ConfigurationError).problems[0]?.fix).to.contain('OMNIBUS_TRANSPORTS_OLD_<OPTION>');
  });
});
