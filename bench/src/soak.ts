#!/usr/bin/env node
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { loadavg } from 'node:os';
import { InMemoryBroker, InMemoryTransport } from '@omnibus/core';
import { nextTurn, sleep } from './async-utils.js';
import { makePayload } from './payload.js';
import { scatterChart } from './report/svg.js';
import { linearFit, latencyPercentiles } from './stats.js';
import { omnibusFactory } from './subjects/omnibus-subject.js';

/**
 * Soak: Omnibus in-memory end to end at a fixed open-loop rate for a long time, sampling memory
 * after a forced GC every `--sample-seconds`. Shows whether RSS or heap grows with the number
 * of messages handled (a leak) rather than with the number in flight.
 *
 *   node --expose-gc bench/dist/src/soak.js --rate 10000 --seconds 600 [--sample-seconds 10] [--out DIR]
 *
 * Writes DIR/soak.json and DIR/soak.svg (heap and RSS over time, with least-squares lines over
 * the second half) and prints the growth per minute and the end-to-end latency percentiles.
 */
interface Sample {
  readonly atS: number;
  readonly handled: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly rss: number;
}

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i < 0 ? undefined : process.argv[i + 1];
  return value === undefined ? fallback : Number(value);
}

async function main(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) throw new Error('run with node --expose-gc');
  const rate = arg('rate', 10_000);
  const seconds = arg('seconds', 600);
  const sampleSeconds = arg('sample-seconds', 10);
  const sizeBytes = arg('size', 1024);
  const outIndex = process.argv.indexOf('--out');
  const outDir = outIndex < 0 ? 'bench/results' : (process.argv[outIndex + 1] ?? 'bench/results');
  const broker = new InMemoryBroker();
  const factory = omnibusFactory(
    { createTransport: () => new InMemoryTransport({ broker }) },
    'in-memory',
    {},
  );
  const total = Math.round(rate * seconds);
  let handled = 0;
  const latencies = new Float64Array(Math.min(total, 2_000_000));
  const subject = factory.create({
    runId: 'soak',
    concurrency: 16,
    onMessage: (payload) => {
      if (handled < latencies.length) latencies[handled] = performance.now() - payload.t;
      handled += 1;
    },
  });
  await subject.open();
  await subject.startConsumer();
  const samples: Sample[] = [];
  const load: number[] = [loadavg()[0] ?? Number.NaN];
  const start = performance.now() + 2;
  const interval = 1000 / rate;
  let sent = 0;
  let nextSample = start;
  while (sent < total) {
    const now = performance.now();
    if (now >= nextSample) {
      gc();
      const usage = process.memoryUsage();
      samples.push({
        atS: (now - start) / 1000,
        handled,
        heapUsed: usage.heapUsed,
        external: usage.external,
        rss: usage.rss,
      });
      nextSample += sampleSeconds * 1000;
      process.stderr.write(
        `\r${String(Math.round((now - start) / 1000))} s, handled ${String(handled)}, heap ${(usage.heapUsed / 2 ** 20).toFixed(1)} MiB, rss ${(usage.rss / 2 ** 20).toFixed(1)} MiB   `,
      );
    }
    while (sent < total && start + sent * interval <= now) {
      void subject.publish(makePayload(sent, start + sent * interval, sizeBytes));
      sent += 1;
    }
    const wait = start + sent * interval - performance.now();
    if (wait > 2) await sleep(wait - 1);
    else await nextTurn();
  }
  while (handled < total) await sleep(10);
  load.push(loadavg()[0] ?? Number.NaN);
  await subject.close();
  const half = samples.filter((s) => s.atS >= seconds / 2);
  const perMinute = (key: 'heapUsed' | 'rss'): number =>
    linearFit(
      half.map((s) => s.atS / 60),
      half.map((s) => s[key]),
    ).slope;
  const latency = latencyPercentiles(latencies.subarray(0, Math.min(total, latencies.length)));
  const summary = {
    rate,
    seconds,
    sizeBytes,
    handled,
    loadAverage1m: { start: load[0], end: load[1] },
    heapGrowthBytesPerMinuteSecondHalf: perMinute('heapUsed'),
    rssGrowthBytesPerMinuteSecondHalf: perMinute('rss'),
    latencyMs: latency,
    samples,
  };
  mkdirSync(outDir, { recursive: true });
  writeFileSync(`${outDir}/soak.json`, `${JSON.stringify(summary, null, 1)}\n`);
  const series = (key: 'heapUsed' | 'rss', label: string, color: string) => {
    const points = samples.map((s): [number, number] => [s.atS / 60, s[key] / 2 ** 20]);
    const fit = linearFit(
      half.map((s) => s.atS / 60),
      half.map((s) => s[key] / 2 ** 20),
    );
    return {
      label: `${label} (${(fit.slope * 1024).toFixed(1)} KiB/min, 2nd half)`,
      color,
      points,
      fit: { slope: fit.slope, intercept: fit.intercept },
    };
  };
  const svg = scatterChart({
    title: `Soak: Omnibus in-memory at ${String(rate)} msg/s for ${String(seconds / 60)} min (after forced GC)`,
    xLabel: 'minutes',
    yLabel: 'MiB',
    panels: [
      {
        title: 'memory over time',
        series: [series('heapUsed', 'heapUsed', '#2b6cb0'), series('rss', 'rss', '#c05621')],
      },
    ],
  });
  mkdirSync(dirname(`${outDir}/soak.svg`), { recursive: true });
  writeFileSync(`${outDir}/soak.svg`, svg);
  process.stderr.write(
    `\nsoak: ${String(handled)} handled at ${String(rate)} msg/s; heap ${(summary.heapGrowthBytesPerMinuteSecondHalf / 1024).toFixed(1)} KiB/min, rss ${(summary.rssGrowthBytesPerMinuteSecondHalf / 1024).toFixed(1)} KiB/min (second half); latency p50 ${latency.p50.toFixed(3)} p99 ${latency.p99.toFixed(3)} max ${latency.max.toFixed(1)} ms; load ${String(load[0])} → ${String(load[1])}\n`,
  );
}

await main();
