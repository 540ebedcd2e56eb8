// The broker-migration claim store on the real PostgreSQL: one winner per (group, message id)
// however many pools race, expiry, the "not migrated" error, selection from configuration, and
// competing migration consumers that share nothing but the database (docs/guides/migrating-brokers.md).
import { expect } from 'chai';
import type pg from 'pg';
import {
  createEventBus,
  defineEvent,
  ErrorCodes,
  EventHandler,
  InMemoryBroker,
  InMemoryTransport,
  InProcessMigrationClaims,
  isOmnibusError,
  MigrationTransport,
  type EventBus,
  type HandlerContext,
  type MigrationClaims,
  type MigrationPhase,
  type MigrationSide,
} from '@omnibus/core';
import { waitFor } from '@omnibus/core/testing';
import { cleanup, createPostgresMigrationClaims, migrate, PostgresMigrationClaims } from '../src/index.js';
import { dropSchema, POSTGRES_URL, testPool, uniqueSchema } from './support/database.js';

describe('outbox-postgres: migration claims (real PostgreSQL)', function () {
  this.timeout(60_000);
  let pool: pg.Pool;
  let schema: string;
  const pools: pg.Pool[] = [];
  /** A store on its own pool, as a separate process would have. */
  const ownStore = (): PostgresMigrationClaims => {
    const own = testPool(4);
    pools.push(own);
    return new PostgresMigrationClaims({ pool: own, schema });
  };

  beforeEach(async () => {
    pool = testPool();
    schema = uniqueSchema('claims');
    await migrate(pool, { schema });
  });

  afterEach(async () => {
    await Promise.all(pools.splice(0).map((p) => p.end()));
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('one side wins each (group, message id) when two pools race, and both learn the winner', async () => {
    const a = ownStore();
    const b = ownStore();
    const ids = Array.from({ length: 200 }, (_, i) => `m${String(i)}`);
    const results = await Promise.all(
      ids.map(async (id, i) => {
        // Alternate who asks first, so both sides win some.
        const [first, second] = i % 2 === 0 ? [a, b] : [b, a];
        const sides: [MigrationSide, MigrationSide] = i % 2 === 0 ? ['from', 'to'] : ['to', 'from'];
        return Promise.all([first.claim('billing', id, sides[0]), second.claim('billing', id, sides[1])]);
      }),
    );
    for (const [x, y] of results) expect(x, 'both callers see one owner').to.equal(y);
    const owners = new Set(results.map(([x]) => x));
    expect([...owners].sort()).to.deep.equal(['from', 'to']);
    const { rows } = await pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM "${schema}".omnibus_migration_claims WHERE group_name = 'billing'`,
    );
    expect(Number(rows[0]?.n)).to.equal(200);
    // The owner's own redelivery stays the owner's; another group claims independently.
    const [first] = results[0] ?? [];
    expect(await b.claim('billing', 'm0', first === 'from' ? 'to' : 'from')).to.equal(first);
    expect(await b.claim('shipping', 'm0', 'to')).to.equal('to');
  });

  it('expires claims older than the retention (expire, cleanup), keeping newer ones', async () => {
    const store = ownStore();
    await store.claim('g', 'old', 'from');
    await pool.query(
      `UPDATE "${schema}".omnibus_migration_claims SET claimed_at = claimed_at - interval '2 hours' WHERE message_id = 'old'`,
    );
    await store.claim('g', 'new', 'to');
    expect(await store.expire(60 * 60 * 1000)).to.equal(1);
    expect(await store.claim('g', 'old', 'to'), 'an expired claim can be made again').to.equal('to');
    expect(await store.claim('g', 'new', 'from')).to.equal('to');
    const result = await cleanup(pool, { schema, migrationClaimsRetentionMs: 0 });
    expect(result.migrationClaims).to.equal(2);
  });

  it('rejects with STORE_NOT_MIGRATED naming the migrate command when the table is missing', async () => {
    const store = new PostgresMigrationClaims({ pool, schema: uniqueSchema('none') });
    const error = await store.claim('g', 'm', 'from').catch((e: unknown) => e);
    expect(isOmnibusError(error) && error.code).to.equal(ErrorCodes.STORE_NOT_MIGRATED);
    expect((error as Error).message).to.contain('omnibus-outbox migrate');
  });

  it('is selected from configuration (claims: "postgres") and its pool is ended with the bus', async () => {
    const Paid = defineEvent<{ readonly n: number }>('claims-config.paid.v1');
    const handled: string[] = [];
    class Billing {
      @EventHandler(Paid, { group: 'billing' })
      paid(_p: { n: number }, context: HandlerContext): void {
        handled.push(context.envelope.id);
      }
    }
    const app = `claims_${schema}`;
    const sessions = async (): Promise<number> =>
      Number(
        (
          await pool.query<{ n: string }>(
            'SELECT count(*) AS n FROM pg_stat_activity WHERE application_name = $1',
            [app],
          )
        ).rows[0]?.n,
      );
    const bus = createEventBus({
      transport: {
        name: 'migration',
        options: {
          from: 'in-memory',
          to: { name: 'in-memory', options: { prefetch: 4 } },
          phase: 'dual-write',
          claims: 'postgres',
          claimsUrl: `${POSTGRES_URL}?application_name=${app}`,
          claimsSchema: schema,
        },
      },
      handlers: [Billing],
    });
    await bus.start();
    const { id } = await bus.publish(Paid, { n: 1 });
    await waitFor(async () => {
      const { rows } = await pool.query(
        `SELECT side FROM "${schema}".omnibus_migration_claims WHERE group_name = 'billing' AND message_id = $1`,
        [id],
      );
      return rows.length === 1 && handled.length === 1;
    });
    expect(await sessions(), 'the store has its own pool').to.be.greaterThan(0);
    await bus.stop();
    expect(handled).to.deep.equal([id]);
    // pool.end() closed the connections; the server ends their backends just after. An idle pool
    // not ended would keep them for its 10 s idle timeout.
    await waitFor(async () => (await sessions()) === 0, { timeoutMs: 3000 });
  });

  it('selecting it with a bad schema name fails the start with the fix', async () => {
    const bus = createEventBus({
      transport: {
        name: 'migration',
        options: {
          from: 'in-memory',
          to: { name: 'in-memory', options: { prefetch: 4 } },
          phase: 'drain',
          claims: 'postgres',
          claimsUrl: POSTGRES_URL,
          claimsSchema: 'Bad-Schema',
        },
      },
      events: [],
    });
    const error = await bus.start().catch((e: unknown) => e);
    await bus.stop();
    expect((error as Error).message).to.match(
      /could not create the PostgreSQL claim store: outbox schema "Bad-Schema"/,
    );
  });

  describe('competing consumers in dual-write, each with its own claim store', () => {
    const Paid = defineEvent<{ readonly n: number }>('claims-compete.paid.v1');
    const handled = new Map<string, number>();
    class Billing {
      @EventHandler(Paid, { group: 'billing' })
      paid(_p: { n: number }, context: HandlerContext): void {
        handled.set(context.envelope.id, (handled.get(context.envelope.id) ?? 0) + 1);
      }
    }

    /**
     * Two consumers of one group, each with the store `storeFor` gives it, read both brokers;
     * 60 messages published in dual-write and 20 by a producer not yet migrated; one consumer
     * restarts halfway. Resolves with the ids
     * handled more than once.
     */
    async function compete(storeFor: () => MigrationClaims): Promise<string[]> {
      handled.clear();
      const old = new InMemoryBroker();
      const next = new InMemoryBroker();
      const transport = (phase: MigrationPhase, claims?: MigrationClaims): MigrationTransport =>
        new MigrationTransport({
          from: new InMemoryTransport({ broker: old }),
          to: new InMemoryTransport({ broker: next }),
          phase,
          ...(claims === undefined ? {} : { claims }),
        });
      const consumer = async (): Promise<EventBus> => {
        const bus = createEventBus({ transport: transport('dual-write', storeFor()), handlers: [Billing] });
        await bus.start();
        return bus;
      };
      const producer = createEventBus({ transport: transport('dual-write'), events: [Paid] });
      await producer.start();
      // A producer not yet migrated publishes to the old broker only, so the two brokers hand
      // the copies of one message to different consumers.
      const legacy = createEventBus({ transport: new InMemoryTransport({ broker: old }), events: [Paid] });
      await legacy.start();
      const a = await consumer();
      let b = await consumer();
      const ids: string[] = [];
      try {
        for (let n = 0; n < 60; n += 1) {
          ids.push((await producer.publish(Paid, { n })).id);
          if (n % 3 === 0) ids.push((await legacy.publish(Paid, { n })).id);
          if (n === 30) {
            await b.stop();
            b = await consumer();
          }
        }
        const idle = (broker: InMemoryBroker): boolean => {
          const stats = broker.stats(Paid.name, 'billing');
          return stats.ready === 0 && stats.inFlight === 0;
        };
        await waitFor(() => ids.every((id) => handled.has(id)) && idle(old) && idle(next), {
          timeoutMs: 20_000,
        });
      } finally {
        await Promise.all([producer.stop(), legacy.stop(), a.stop(), b.stop()]);
      }
      expect(
        ids.filter((id) => !handled.has(id)),
        'lost',
      ).to.deep.equal([]);
      return [...handled].filter(([, count]) => count > 1).map(([id]) => id);
    }

    it('a store per consumer in process memory handles messages twice (the control)', async () => {
      expect(await compete(() => new InProcessMigrationClaims())).to.not.deep.equal([]);
    });

    it('the PostgreSQL store, one pool per consumer: 0 lost, 0 handled twice', async () => {
      expect(await compete(ownStore)).to.deep.equal([]);
    });

    it('the store from configuration (createPostgresMigrationClaims): 0 handled twice', async () => {
      const stores: PostgresMigrationClaims[] = [];
      const twice = await compete(() => {
        const store = createPostgresMigrationClaims({ connectionString: POSTGRES_URL, schema });
        stores.push(store);
        return store;
      });
      await Promise.all(stores.map((s) => s.close()));
      expect(twice).to.deep.equal([]);
    });
  });
});
