// The idempotent inbox against the real PostgreSQL, alone and as handler middleware on the
// in-memory transport (a message published twice with one id reaches the handler twice).
import { expect } from 'chai';
import type pg from 'pg';
import {
  createEventBus,
  defineEvent,
  ErrorCodes,
  EventHandler,
  InMemoryBroker,
  InMemoryTransport,
  isOmnibusError,
  type EventBus,
} from '@omnibus/core';
import { MessageSpy, waitFor } from '@omnibus/core/testing';
import { migrate, PostgresInbox } from '../src/index.js';
import { dropSchema, testPool, uniqueSchema } from './support/database.js';

describe('outbox-postgres: inbox (real PostgreSQL)', function () {
  this.timeout(30_000);
  let pool: pg.Pool;
  let schema: string;
  let inbox: PostgresInbox;

  beforeEach(async () => {
    pool = testPool();
    schema = uniqueSchema('inbox');
    await migrate(pool, { schema });
    await pool.query(`CREATE TABLE "${schema}".effects (message_id text NOT NULL)`);
    inbox = new PostgresInbox({ pool, schema });
  });

  afterEach(async () => {
    await dropSchema(pool, schema);
    await pool.end();
  });

  const effects = async (): Promise<string[]> =>
    (
      await pool.query<{ message_id: string }>(`SELECT message_id FROM "${schema}".effects ORDER BY 1`)
    ).rows.map((r) => r.message_id);
  const effect = (id: string) => async () => {
    await inbox.transaction().query(`INSERT INTO "${schema}".effects VALUES ($1)`, [id]);
  };

  it('runs the work once per (group, message id); another group runs it again', async () => {
    expect(await inbox.run('billing', 'm1', effect('m1'))).to.deep.equal({ handled: true, value: undefined });
    expect(await inbox.run('billing', 'm1', effect('m1'))).to.deep.equal({ handled: false });
    expect(await inbox.run('shipping', 'm1', effect('m1'))).to.include({ handled: true });
    expect(await effects()).to.deep.equal(['m1', 'm1']);
    expect(await inbox.seen('billing', 'm1')).to.equal(true);
  });

  it('rolls the record back with the effects when the work throws, so the retry runs it', async () => {
    const failing = async () => {
      await effect('m2')();
      throw new Error('handler failed');
    };
    let caught: unknown;
    await inbox.run('g', 'm2', failing).catch((error: unknown) => (caught = error));
    expect((caught as Error).message).to.equal('handler failed');
    expect(await effects()).to.deep.equal([]);
    expect(await inbox.run('g', 'm2', effect('m2'))).to.include({ handled: true });
    expect(await effects()).to.deep.equal(['m2']);
  });

  it('concurrent duplicates: exactly one runs, the other waits for its commit and is skipped', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const first = inbox.run('g', 'm3', async () => {
      await effect('m3')();
      await gate;
    });
    const second = inbox.run('g', 'm3', effect('m3'));
    await new Promise((resolve) => setImmediate(resolve));
    release();
    const outcomes = await Promise.all([first, second]);
    expect(outcomes.map((o) => o.handled).sort()).to.deep.equal([false, true]);
    expect(await effects()).to.deep.equal(['m3']);
  });

  it('transaction() outside a handler is TRANSACTION_REQUIRED; expire() deletes old rows only', async () => {
    let caught: unknown;
    try {
      inbox.transaction();
    } catch (error) {
      caught = error;
    }
    expect(isOmnibusError(caught) && caught.code).to.equal(ErrorCodes.TRANSACTION_REQUIRED);
    await inbox.run('g', 'old', async () => undefined);
    await pool.query(`UPDATE "${schema}".omnibus_inbox SET handled_at = now() - interval '2 hours'`);
    await inbox.run('g', 'new', async () => undefined);
    expect(await inbox.expire(3_600_000)).to.equal(1);
    expect(await inbox.seen('g', 'old')).to.equal(false);
    expect(await inbox.seen('g', 'new')).to.equal(true);
  });

  it('as middleware: a redelivered message id is acknowledged without running the handler again', async () => {
    const Paid = defineEvent<{ amount: number }>(`inbox-test.paid.${schema}`);
    const seen: string[] = [];
    const middleware = inbox.middleware();
    const insert = async (id: string): Promise<void> => {
      seen.push(id);
      await inbox.transaction().query(`INSERT INTO "${schema}".effects VALUES ($1)`, [id]);
    };
    class Billing {
      @EventHandler(Paid, { group: 'billing', middleware: [middleware] })
      async onPaid(_payload: { amount: number }, context: { envelope: { id: string } }): Promise<void> {
        await insert(context.envelope.id);
      }
    }
    const bus: EventBus = createEventBus({
      transport: new InMemoryTransport({ broker: new InMemoryBroker() }),
      handlers: [Billing],
    });
    const spy = new MessageSpy(bus);
    await bus.start();
    try {
      await bus.publish(Paid, { amount: 1 }, { id: 'pay-1' });
      await bus.publish(Paid, { amount: 1 }, { id: 'pay-1' });
      await bus.publish(Paid, { amount: 2 }, { id: 'pay-2' });
      await spy.waitFor((r) => r.kind === 'acked' && r.envelope.id === 'pay-2');
      await waitFor(() => spy.counts.acked === 3);
    } finally {
      spy.dispose();
      await bus.stop({ drainTimeoutMs: 1000 });
    }
    expect(await effects()).to.deep.equal(['pay-1', 'pay-2']);
    expect(seen).to.deep.equal(['pay-1', 'pay-2']);
  });
});
