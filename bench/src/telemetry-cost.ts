// Telemetry cost on the in-memory transport: the same end-to-end run (publishBatch → handler →
// ack) with no telemetry, with @omnibus/opentelemetry on the bare @opentelemetry/api (no SDK),
// and with the SDK recording every span (BatchSpanProcessor + InMemorySpanExporter) and metric.
// Variants run interleaved, several rounds, medians reported (the machine may be shared).
// Usage: node bench/dist/src/telemetry-cost.js [--messages N] [--rounds N] [--json FILE]
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { context } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor, InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  createEventBus,
  defineEvent,
  EventHandler,
  InMemoryBroker,
  InMemoryTransport,
  type EventBusPlugin,
} from '@omnibus/core';
import { openTelemetry } from '@omnibus/opentelemetry';

class ManualReader extends MetricReader {
  protected override onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected override onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

type Variant = 'off' | 'api-no-sdk' | 'sdk';
const VARIANTS: readonly Variant[] = ['off', 'api-no-sdk', 'sdk'];

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const MESSAGES = arg('messages', 20_000);
const ROUNDS = arg('rounds', 7);
const BATCH = 100;
const WINDOW = 4;
let runs = 0;

interface Sample {
  readonly rate: number;
  readonly cpuUsPerMessage: number;
}

async function runOnce(variant: Variant): Promise<Sample> {
  const id = `cost.${String(process.pid)}.${String(++runs)}`;
  const event = defineEvent<{ n: number }>(id);
  let handled = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  class Handler {
    @EventHandler(event, { group: 'cost', concurrency: 16 })
    on(): void {
      if (++handled === MESSAGES) done();
    }
  }
  let plugins: EventBusPlugin[] = [];
  let shutdown = (): Promise<void> => Promise.resolve();
  if (variant === 'api-no-sdk') plugins = [openTelemetry()];
  if (variant === 'sdk') {
    const exporter = new InMemorySpanExporter();
    const tracerProvider = new BasicTracerProvider({ spanProcessors: [new BatchSpanProcessor(exporter)] });
    const meterProvider = new MeterProvider({ readers: [new ManualReader()] });
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
    plugins = [openTelemetry({ tracerProvider, meterProvider })];
    shutdown = async () => {
      context.disable();
      await tracerProvider.shutdown();
      await meterProvider.shutdown();
      exporter.reset();
    };
  }
  const broker = new InMemoryBroker();
  const consumer = createEventBus({
    transport: new InMemoryTransport({ broker }),
    handlers: [Handler],
    plugins,
  });
  const publisher = createEventBus({
    transport: new InMemoryTransport({ broker }),
    events: [event],
    plugins,
  });
  await consumer.start();
  await publisher.start();
  const payloads = Array.from({ length: BATCH }, (_, n) => ({ n }));
  const cpu = process.cpuUsage();
  const started = performance.now();
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < MESSAGES) {
      next += BATCH;
      await publisher.publishBatch(event, payloads);
    }
  };
  await Promise.all(Array.from({ length: WINDOW }, lane));
  await finished;
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  await publisher.stop();
  await consumer.stop();
  await shutdown();
  return { rate: MESSAGES / seconds, cpuUsPerMessage: (used.user + used.system) / MESSAGES };
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};

async function main(): Promise<void> {
  const samples = new Map<Variant, Sample[]>(VARIANTS.map((v) => [v, []]));
  for (const variant of VARIANTS) await runOnce(variant); // warm-up
  for (let round = 0; round < ROUNDS; round++) {
    const order = round % 2 === 0 ? VARIANTS : [...VARIANTS].reverse();
    for (const variant of order) samples.get(variant)?.push(await runOnce(variant));
    process.stderr.write(`round ${String(round + 1)}/${String(ROUNDS)}\n`);
  }
  const base = samples.get('off') ?? [];
  const baseRate = median(base.map((s) => s.rate));
  const baseCpu = median(base.map((s) => s.cpuUsPerMessage));
  const rows = VARIANTS.map((variant) => {
    const list = samples.get(variant) ?? [];
    const rate = median(list.map((s) => s.rate));
    const cpu = median(list.map((s) => s.cpuUsPerMessage));
    return {
      variant,
      medianRate: Math.round(rate),
      minRate: Math.round(Math.min(...list.map((s) => s.rate))),
      maxRate: Math.round(Math.max(...list.map((s) => s.rate))),
      throughputVsOff: rate / baseRate,
      cpuUsPerMessage: cpu,
      extraCpuUsPerMessage: cpu - baseCpu,
      extraWallUsPerMessage: 1e6 / rate - 1e6 / baseRate,
    };
  });
  console.log(
    `telemetry cost, in-memory, ${String(MESSAGES)} messages × ${String(ROUNDS)} rounds, node ${process.version}`,
  );
  console.log('variant      msg/s (median, min–max)      vs off   CPU µs/msg  +CPU µs/msg  +wall µs/msg');
  for (const r of rows) {
    console.log(
      `${r.variant.padEnd(12)} ${String(r.medianRate).padStart(7)} (${String(r.minRate)}–${String(r.maxRate)})`.padEnd(
        41,
      ) +
        `${(r.throughputVsOff * 100).toFixed(1).padStart(6)} %  ${r.cpuUsPerMessage.toFixed(1).padStart(9)}  ${r.extraCpuUsPerMessage.toFixed(1).padStart(11)}  ${r.extraWallUsPerMessage.toFixed(1).padStart(12)}`,
    );
  }
  const json = process.argv.indexOf('--json');
  if (json !== -1)
    writeFileSync(
      process.argv[json + 1] ?? 'telemetry-cost.json',
      `${JSON.stringify({ messages: MESSAGES, rounds: ROUNDS, node: process.version, rows }, null, 2)}\n`,
    );
}

await main();
