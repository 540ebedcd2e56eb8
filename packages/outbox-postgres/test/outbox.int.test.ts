// The outbox and its relay against the real PostgreSQL of the broker manager, publishing to the
// in-memory transport (through a recorder, to see exactly what was published and in what order).
import { expect } from 'chai';
import type pg from 'pg';
import { z } from 'zod';
import { defineEvent, ErrorCodes, InMemoryBroker, InMemoryTransport, isOmnibusError } from '@omnibus/core';
import { waitFor } from '@omnibus/core/testing';
import { migrate, OutboxRelay, PostgresOutbox, withTransaction } from '../src/index.js';
import { dropSchema, testPool, uniqueSchema } from './support/database.js';
import { recordingTransport, type RecordingTransport } from './support/recording-transport.js';

const Placed = defineEvent<{ order: number }>('outbox-test.order-placed.v1', {
  schema: z.object({ order: z.number() }),
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('outbox-postgres: outbox and relay (real PostgreSQL)', function () {
  this.timeout(30_000);
  let pool: pg.Pool;
  let schema: string;
  let outbox: PostgresOutbox;
  let transport: RecordingTransport;
  let broker: InMemoryBroker;
  const relays: OutboxRelay[] = [];

  beforeEach(async () => {
    pool = testPool();
    schema = uniqueSchema('outbox');
    await migrate(pool, { schema });
    outbox = new PostgresOutbox({ schema });
    broker = new InMemoryBroker();
    transport = recordingTransport(new InMemoryTransport({ broker }));
    await transport.connect();
    // A consumer group, as the consuming service would provision: without one a publish is refused.
    await transport.provision({
      destinations: [{ name: Placed.name, groups: [{ name: 'readers', ordered: false }] }],
    });
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((r) => r.stop()));
    await transport.close(0);
    await dropSchema(pool, schema);
    await pool.end();
  });

  const relay = (options: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {}): OutboxRelay => {
    const r = new OutboxRelay({ schema, pool, transport, pollIntervalMs: 50, ...options });
    relays.push(r);
    return r;
  };

  it('migrate is idempotent, and a missing table is STORE_NOT_MIGRATED naming the migrate command', async () => {
    await migrate(pool, { schema });
    const other = new PostgresOutbox({ schema: uniqueSchema('missing') });
    const error = await rejection(withTransaction(pool, (tx) => other.publish(tx, Placed, { order: 1 })));
    expect(isOmnibusError(error) && error.code).to.equal(ErrorCodes.STORE_NOT_MIGRATED);
    expect((error as Error).message).to.contain('omnibus-outbox migrate');
  });

  it('publishing outside a transaction is TRANSACTION_REQUIRED (idle connection, pool, aborted transaction) and writes nothing', async () => {
    const client = await pool.connect();
    try {
      const idle = await rejection(outbox.publish(client, Placed, { order: 1 }));
      expect(isOmnibusError(idle) && idle.code).to.equal(ErrorCodes.TRANSACTION_REQUIRED);
      // A Pool has no transaction status: the server-side check catches it.
      const viaPool = await rejection(outbox.publish(pool, Placed, { order: 2 }));
      expect(isOmnibusError(viaPool) && viaPool.code).to.equal(ErrorCodes.TRANSACTION_REQUIRED);
      await client.query('BEGIN');
      await client.query('SELECT 1/0').catch(() => undefined);
      const aborted = await rejection(outbox.publish(client, Placed, { order: 3 }));
      expect(isOmnibusError(aborted) && aborted.code).to.equal(ErrorCodes.TRANSACTION_REQUIRED);
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".omnibus_outbox`,
    );
    expect(rows[0]!.n).to.equal(0);
  });

  it('validates like EventBus.publish: a payload failing the schema is VALIDATION_FAILED', async () => {
    const error = await rejection(
      withTransaction(pool, (tx) =>
        outbox.publish(tx, Placed, { order: 'x' } as unknown as { order: number }),
      ),
    );
    expect(isOmnibusError(error) && error.code).to.equal(ErrorCodes.VALIDATION_FAILED);
  });

  it('publishes committed messages with their envelope intact and never rolled-back ones', async () => {
    const committed = await withTransaction(pool, (tx) =>
      outbox
        .bind(tx)
        .publish(
          Placed,
          { order: 1 },
          { partitionKey: 'k1', headers: { tenant: 'a' }, correlationId: 'c-1' },
        ),
    );
    const rolledBack = await rejection(
      withTransaction(pool, async (tx) => {
        await outbox.publish(tx, Placed, { order: 2 });
        throw new Error('business rule failed');
      }),
    );
    expect((rolledBack as Error).message).to.equal('business rule failed');
    const result = await relay().runOnce();
    expect(result).to.include({ claimed: 1, published: 1 });
    expect(transport.published).to.have.length(1);
    const sent = transport.published[0]!;
    expect(sent.destination).to.equal(Placed.name);
    expect(sent.envelope.id).to.equal(committed.id);
    expect(sent.envelope.partitionKey).to.equal('k1');
    expect(sent.envelope.correlationId).to.equal('c-1');
    expect(sent.envelope.headers).to.deep.equal(committed.headers);
    expect(sent.envelope.occurredAt.getTime()).to.equal(committed.occurredAt.getTime());
    expect(JSON.parse(Buffer.from(sent.envelope.payload).toString())).to.deep.equal({ order: 1 });
    expect((await relay().runOnce()).claimed).to.equal(0);
  });

  it('dead-letters a row whose payload no longer decodes, with the reason, and keeps relaying the rest', async () => {
    await withTransaction(pool, async (tx) => {
      await outbox.publish(tx, Placed, { order: 1 }, { partitionKey: 'k' });
      await tx.query(
        `INSERT INTO "${schema}".omnibus_outbox (id, destination, type, partition_key, content_type, payload, occurred_at)
         VALUES ('broken-1', $1, $1, 'k', 'application/json', convert_to('{not json', 'UTF8'), now())`,
        [Placed.name],
      );
      await tx.query(
        `INSERT INTO "${schema}".omnibus_outbox (id, destination, type, content_type, payload, occurred_at)
         VALUES ('schema-2', $1, $1, 'application/json', convert_to('{"order":"two"}', 'UTF8'), now())`,
        [Placed.name],
      );
      await outbox.publish(tx, Placed, { order: 3 }, { partitionKey: 'k' });
    });
    const deadLettered: string[] = [];
    const r = relay({ events: [Placed] });
    r.on('dead-lettered', (event) => deadLettered.push(event.id));
    r.start();
    await waitFor(() => transport.published.length === 2, { timeoutMs: 10_000 });
    await waitFor(() => deadLettered.length === 2, { timeoutMs: 10_000 });
    expect(
      transport.published.map((p) => JSON.parse(Buffer.from(p.envelope.payload).toString()) as unknown),
    ).to.deep.equal([{ order: 1 }, { order: 3 }]);
    const { rows } = await pool.query<{ id: string; reason: string }>(
      `SELECT id, reason FROM "${schema}".omnibus_outbox_dead_letter ORDER BY seq`,
    );
    expect(rows.map((row) => row.id)).to.deep.equal(['broken-1', 'schema-2']);
    expect(rows[0]!.reason).to.contain('does not decode');
    expect(rows[1]!.reason).to.contain('schema');
    const pending = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".omnibus_outbox WHERE dispatched_at IS NULL`,
    );
    expect(pending.rows[0]!.n).to.equal(0);
  });

  it('keeps per-key order and publishes each row once with four relays (two with concurrency 2) racing', async () => {
    const keys = ['a', 'b', 'c', 'd', 'e'];
    for (let round = 0; round < 8; round++) {
      await withTransaction(pool, async (tx) => {
        for (let i = 0; i < 25; i++) {
          const n = round * 25 + i;
          await outbox.publish(tx, Placed, { order: n }, { partitionKey: keys[n % keys.length]! });
        }
      });
    }
    for (const concurrency of [1, 1, 2, 2]) relay({ batchSize: 7, concurrency }).start();
    await waitFor(() => transport.published.length >= 200, { timeoutMs: 20_000 });
    const orders = transport.published.map(
      (p) => (JSON.parse(Buffer.from(p.envelope.payload).toString()) as { order: number }).order,
    );
    expect(new Set(orders).size).to.equal(200);
    expect(orders).to.have.length(200);
    for (const key of keys) {
      const ofKey = transport.published
        .filter((p) => p.envelope.partitionKey === key)
        .map((p) => (JSON.parse(Buffer.from(p.envelope.payload).toString()) as { order: number }).order);
      expect(ofKey, `key ${key}`).to.deep.equal([...ofKey].sort((x, y) => x - y));
    }
  });

  it('wakes on NOTIFY at commit (poll interval 60 s) and reports lag and dispatch events', async () => {
    const r = relay({ pollIntervalMs: 60_000, lagIntervalMs: 50 });
    const lags: number[] = [];
    const dispatched: number[] = [];
    r.on('lag', (lag) => lags.push(lag.pending));
    r.on('dispatched', (event) => dispatched.push(event.published));
    r.start();
    await waitFor(() => lags.length > 0, { timeoutMs: 5000 });
    // Give the LISTEN connection time to be established before the commit it must see.
    await waitFor(
      async () =>
        (
          await pool.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN%'`,
          )
        ).rows[0]!.n > 0,
      {
        timeoutMs: 5000,
      },
    );
    await withTransaction(pool, (tx) => outbox.publish(tx, Placed, { order: 7 }));
    await waitFor(() => dispatched.length === 1, {
      timeoutMs: 5000,
      message: 'NOTIFY did not wake the relay',
    });
    expect(dispatched).to.deep.equal([1]);
    expect(transport.published).to.have.length(1);
    expect(lags.every((n) => n >= 0)).to.equal(true);
  });

  it('a broker failure keeps the rows pending (attempts counted) and backs off; they go out once it recovers', async () => {
    await withTransaction(pool, (tx) => outbox.publish(tx, Placed, { order: 1 }, { partitionKey: 'k' }));
    transport.failNext(3);
    const errors: number[] = [];
    let committed = 0;
    const r = relay({ backoff: { baseMs: 20, maxMs: 100 } });
    r.on('error', (event) => errors.push(event.consecutiveFailures));
    // The transport sees the publish before the batch commits: wait for the commit, not the publish.
    r.on('dispatched', (event) => (committed += event.published));
    r.start();
    await waitFor(() => committed === 1, { timeoutMs: 10_000 });
    expect(transport.published).to.have.length(1);
    expect(errors).to.deep.equal([1, 2, 3]);
    const { rows } = await pool.query<{ attempts: number; dispatched_at: Date | null }>(
      `SELECT attempts, dispatched_at FROM "${schema}".omnibus_outbox`,
    );
    expect(rows[0]!.attempts).to.equal(3);
    expect(rows[0]!.dispatched_at).to.be.an.instanceOf(Date);
  });

  it('a destination no consumer group subscribes to keeps its rows pending (NO_SUBSCRIBERS, retried with backoff) until a group exists', async () => {
    const Lonely = defineEvent<{ order: number }>('outbox-test.nobody-listens.v1');
    await withTransaction(pool, (tx) => outbox.publish(tx, Lonely, { order: 1 }));
    const errors: unknown[] = [];
    const retries: number[] = [];
    const r = relay({ backoff: { baseMs: 20, maxMs: 100 } });
    r.on('refused', (event) => {
      expect(event.destination).to.equal(Lonely.name);
      errors.push(event.error);
      retries.push(event.consecutiveFailures);
    });
    r.on('error', (event) => errors.push(event.error));
    r.start();
    await waitFor(() => errors.length >= 2, { timeoutMs: 10_000 });
    expect(
      errors.every((e) => isOmnibusError(e) && e.code === ErrorCodes.NO_SUBSCRIBERS && e.retriable),
    ).to.equal(true);
    expect(retries.slice(0, 2)).to.deep.equal([1, 2]);
    const pending = await pool.query<{ attempts: number; last_error: string; dispatched_at: Date | null }>(
      `SELECT attempts, last_error, dispatched_at FROM "${schema}".omnibus_outbox`,
    );
    expect(pending.rows).to.have.length(1);
    expect(pending.rows[0]!.dispatched_at).to.equal(null);
    expect(pending.rows[0]!.attempts).to.be.at.least(2);
    expect(pending.rows[0]!.last_error).to.contain('no consumer group subscribes');
    await transport.provision({
      destinations: [{ name: Lonely.name, groups: [{ name: 'late', ordered: false }] }],
    });
    await waitFor(() => transport.published.length === 1, { timeoutMs: 10_000 });
    expect(broker.stats(Lonely.name, 'late').ready).to.equal(1);
  });

  it('a refusing destination does not hold the others: its rows stay pending with their error while later rows to other destinations go out, in order, in the same batches', async () => {
    const Lonely = defineEvent<{ order: number }>('outbox-test.refused.v1');
    // The refused rows come first, in the same partition keys as the deliverable ones.
    for (let i = 0; i < 5; i++)
      await withTransaction(pool, async (tx) => {
        await outbox.publish(tx, Lonely, { order: i }, { partitionKey: `k${String(i % 2)}` });
        await outbox.publish(tx, Placed, { order: i }, { partitionKey: `k${String(i % 2)}` });
      });
    const refused: string[] = [];
    const errors: unknown[] = [];
    // A long backoff: a batch that stopped at the refusal would leave Placed's rows behind it for 30 s.
    const r = relay({ batchSize: 4, backoff: { baseMs: 30_000, maxMs: 30_000 } });
    r.on('refused', (event) => refused.push(event.destination));
    r.on('error', (event) => errors.push(event.error));
    r.start();
    await waitFor(() => transport.published.length === 5, { timeoutMs: 5000 });
    expect(
      transport.published.map(
        (p) => (JSON.parse(Buffer.from(p.envelope.payload).toString()) as { order: number }).order,
      ),
    ).to.deep.equal([0, 1, 2, 3, 4]);
    expect(transport.published.every((p) => p.destination === Placed.name)).to.equal(true);
    expect(errors).to.deep.equal([]);
    expect(refused).to.deep.equal([Lonely.name]); // once, then left out for its backoff
    const rows = await pool.query<{
      type: string;
      attempts: number;
      last_error: string | null;
      dispatched_at: Date | null;
    }>(`SELECT type, attempts, last_error, dispatched_at FROM "${schema}".omnibus_outbox ORDER BY seq`);
    const lonely = rows.rows.filter((row) => row.type === Lonely.name);
    expect(lonely).to.have.length(5);
    expect(lonely.every((row) => row.dispatched_at === null)).to.equal(true);
    // The rows the refusing batch claimed carry the error; the rest were never tried.
    const tried = lonely.filter((row) => row.attempts === 1);
    expect(tried.length).to.be.greaterThan(0);
    expect(tried.every((row) => row.last_error?.startsWith('NO_SUBSCRIBERS: ') === true)).to.equal(true);
    expect(lonely.filter((row) => row.attempts === 0).every((row) => row.last_error === null)).to.equal(true);
    expect(
      rows.rows.filter((row) => row.type === Placed.name).every((row) => row.dispatched_at !== null),
    ).to.equal(true);
  });

  it('PostgreSQL unreachable: the relay reports STORE_UNAVAILABLE with growing backoff and stops cleanly', async () => {
    const r = new OutboxRelay({
      schema,
      transport,
      connectionString: 'postgres://omnibus:omnibus@127.0.0.1:1/omnibus',
      listen: false,
      backoff: { baseMs: 10, maxMs: 40 },
    });
    const failures: { code: unknown; retryInMs: number }[] = [];
    r.on('error', (event) =>
      failures.push({
        code: isOmnibusError(event.error) ? event.error.code : event.error,
        retryInMs: event.retryInMs,
      }),
    );
    r.start();
    await waitFor(() => failures.length >= 4, { timeoutMs: 10_000 });
    await r.stop();
    expect(failures.every((f) => f.code === ErrorCodes.STORE_UNAVAILABLE)).to.equal(true);
    expect(failures.every((f) => f.retryInMs <= 40)).to.equal(true);
  });

  it('retention cleanup deletes dispatched rows only', async () => {
    await withTransaction(pool, (tx) => outbox.publishBatch(tx, Placed, [{ order: 1 }, { order: 2 }]));
    await relay().runOnce();
    await withTransaction(pool, (tx) => outbox.publish(tx, Placed, { order: 3 }));
    const cleaned: number[] = [];
    const r = relay({ retentionMs: 0, cleanupIntervalMs: 20, pollIntervalMs: 60_000, listen: false });
    r.on('cleaned', (event) => cleaned.push(event.outbox));
    // The broker refuses everything, so the pending row stays pending while cleanup runs.
    transport.failNext(1000);
    r.start();
    await waitFor(() => cleaned.length > 0, { timeoutMs: 5000 });
    const { rows } = await pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM "${schema}".omnibus_outbox`,
    );
    expect(cleaned).to.deep.equal([2]);
    expect(rows[0]!.n).to.equal(1);
  });
});
