#!/usr/bin/env node
// npm run bench:outbox -- [--transports in-memory,rabbitmq,kafka] [--messages 1000] [--latency 200] [--url postgres://…]
// Prints the outbox cell (docs/guides/outbox.md) and writes bench/results/outbox-<time>.json.
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { REPO_ROOT } from './brokers.js';
import { runOutboxBench, type OutboxBenchResult } from './outbox/outbox-bench.js';

const { values } = parseArgs({
  options: {
    transports: { type: 'string', default: 'in-memory,rabbitmq,kafka' },
    messages: { type: 'string', default: '1000' },
    latency: { type: 'string', default: '200' },
    url: {
      type: 'string',
      default:
        process.env['OMNIBUS_OUTBOX_DATABASE_URL'] ?? 'postgres://omnibus:omnibus@127.0.0.1:55432/omnibus',
    },
    out: { type: 'string', default: `${REPO_ROOT}bench/results` },
  },
});

const fmt = (x: number): string => (x >= 100 ? x.toFixed(0) : x.toFixed(2));
const results: OutboxBenchResult[] = [];
for (const name of values.transports.split(',').filter(Boolean)) {
  process.stderr.write(`outbox bench on ${name} …\n`);
  const result = await runOutboxBench({
    transport: { name, options: {} },
    url: values.url,
    messages: Number(values.messages),
    latencyMessages: Number(values.latency),
  });
  results.push(result);
}
const lines = [
  '| transport | publish 1/call: direct → outbox msg/s (ratio) | publish 100/call: direct → outbox msg/s (ratio) | latency p50 direct → outbox ms | p99 direct → outbox ms |',
  '| --- | --- | --- | --- | --- |',
  ...results.map(
    (r) =>
      `| ${r.transport} | ${fmt(r.directPublishRate)} → ${fmt(r.outboxPublishRate)} (${fmt(r.outboxPublishRate / r.directPublishRate)}×) | ${fmt(r.directBatchRate)} → ${fmt(r.outboxBatchRate)} (${fmt(r.outboxBatchRate / r.directBatchRate)}×) | ${fmt(r.directLatency.p50)} → ${fmt(r.outboxLatency.p50)} (+${fmt(r.outboxLatency.p50 - r.directLatency.p50)}) | ${fmt(r.directLatency.p99)} → ${fmt(r.outboxLatency.p99)} |`,
  ),
];
process.stdout.write(`${lines.join('\n')}\n`);
mkdirSync(values.out, { recursive: true });
const file = `${values.out}/outbox-${new Date().toISOString().replace(/[:.]/g, '-')}.json`;
writeFileSync(file, `${JSON.stringify({ startedAt: new Date().toISOString(), results }, null, 1)}\n`);
process.stderr.write(`results: ${file}\n`);
setTimeout(() => process.exit(), 500).unref();
