// The outbox cell: what writing through the transactional outbox costs against publishing
// directly, on one transport, in one process (same run, same machine):
// - publish throughput: one message per call; `bus.publish` (awaits the broker's confirm) vs
//   `outbox.publish` in its own transaction (BEGIN, INSERT, COMMIT: awaits PostgreSQL's commit),
//   and 100 messages per call (`publishBatch` vs one transaction with `outbox.publishBatch`);
// - added latency: publish call → handler start, one message at a time, direct vs outbox (the
//   outbox path includes BEGIN/INSERT/COMMIT, NOTIFY, the relay's batch transaction and the publish).
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import {
  createEventBus,
  defineEvent,
  EventHandler,
  type EventBus,
  type TransportSelection,
} from '@omnibus/core';
import { migrate, OutboxRelay, PostgresOutbox, withTransaction } from '@omnibus/outbox-postgres';
import { latencyPercentiles, type LatencyPercentiles } from '../stats.js';

export interface OutboxBenchOptions {
  readonly transport: TransportSelection;
  readonly url: string;
  /** Messages per throughput measurement. */
  readonly messages: number;
  /** Messages per latency measurement (sent one at a time). */
  readonly latencyMessages: number;
}

export interface OutboxBenchResult {
  readonly transport: string;
  readonly messages: number;
  /** msg/s */
  readonly directPublishRate: number;
  readonly outboxPublishRate: number;
  readonly directBatchRate: number;
  readonly outboxBatchRate: number;
  readonly directLatency: LatencyPercentiles;
  readonly outboxLatency: LatencyPercentiles;
}

type Payload = { readonly sentAt: number };

export async function runOutboxBench(options: OutboxBenchOptions): Promise<OutboxBenchResult> {
  const tag = `${String(process.pid)}_${String(Date.now() % 1e8)}`;
  const schema = `bench_outbox_${tag}`;
  const Tick = defineEvent<Payload>(`bench.outbox-tick.${tag}`);
  const received = new Map<number, number>();
  let onReceive: ((sentAt: number) => void) | undefined;
  class Receiver {
    @EventHandler(Tick, { group: `bench-outbox-${tag}`, concurrency: 16 })
    handle(payload: Payload): void {
      received.set(payload.sentAt, performance.now());
      onReceive?.(payload.sentAt);
    }
  }
  const pool = new pg.Pool({ connectionString: options.url, max: 8 });
  pool.on('error', () => undefined);
  const bus: EventBus = createEventBus({ transport: options.transport, handlers: [Receiver] });
  await migrate(pool, { schema });
  await bus.start();
  const relay = new OutboxRelay({
    bus,
    pool,
    schema,
    batchSize: 200,
    pollIntervalMs: 1000,
    lagIntervalMs: 0,
  });
  const outbox = new PostgresOutbox({ schema });
  try {
    relay.start();
    const n = options.messages;
    const rate = async (calls: number, perCall: number, publish: () => Promise<unknown>): Promise<number> => {
      const t0 = performance.now();
      for (let i = 0; i < calls; i++) await publish();
      return (calls * perCall) / ((performance.now() - t0) / 1000);
    };
    const payload = (): Payload => ({ sentAt: -1 });
    const directPublishRate = await rate(n, 1, () => bus.publish(Tick, payload()));
    const outboxPublishRate = await rate(n, 1, () =>
      withTransaction(pool, (tx) => outbox.publish(tx, Tick, payload())),
    );
    const batches = Math.max(1, Math.floor(n / 100));
    const hundred = Array.from({ length: 100 }, payload);
    const directBatchRate = await rate(batches, 100, () => bus.publishBatch(Tick, hundred));
    const outboxBatchRate = await rate(batches, 100, () =>
      withTransaction(pool, (tx) => outbox.publishBatch(tx, Tick, hundred)),
    );
    // Let the relay drain the throughput rows before measuring latency.
    while ((await relay.lag()).pending > 0) await new Promise((resolve) => setTimeout(resolve, 100));
    const latency = async (send: (sentAt: number) => Promise<unknown>): Promise<LatencyPercentiles> => {
      const samples: number[] = [];
      for (let i = 0; i < options.latencyMessages; i++) {
        const sentAt = performance.now();
        const arrived = new Promise<void>((resolve) => {
          onReceive = (at) => {
            if (at === sentAt) resolve();
          };
        });
        await send(sentAt);
        await arrived;
        samples.push((received.get(sentAt) as number) - sentAt);
      }
      return latencyPercentiles(Float64Array.from(samples));
    };
    const directLatency = await latency((sentAt) => bus.publish(Tick, { sentAt }));
    const outboxLatency = await latency((sentAt) =>
      withTransaction(pool, (tx) => outbox.publish(tx, Tick, { sentAt })),
    );
    return {
      transport: options.transport.name,
      messages: n,
      directPublishRate,
      outboxPublishRate,
      directBatchRate,
      outboxBatchRate,
      directLatency,
      outboxLatency,
    };
  } finally {
    await relay.stop();
    await bus.stop();
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
    await pool.end();
  }
}
