import { loadavg } from 'node:os';
import { brokerStatus, ensureBroker, stopBroker, type BrokerStatus } from './brokers.js';
import { machineInfo, packageVersions } from './machine-info.js';
import type { BenchOptions } from './options.js';
import type { Progress } from './progress.js';
import type { BenchResults, Measurement } from './results.js';
import { summarize } from './stats.js';
import { loadNest, type NestModules } from './subjects/nest-subjects.js';
import type { SubjectFactory } from './subjects/subject.js';
import { transportBench, type TransportBench } from './subjects/transports.js';
import { errorText, type CellEnv } from './workloads/cell-env.js';
import { baselineCeilingCell, CEILING_VARIANTS, subjectCeilingCell } from './workloads/ceiling.js';
import { latencyCell } from './workloads/latency.js';
import { memoryCell } from './workloads/memory.js';
import { throughputCell } from './workloads/throughput.js';

/** Rates used when no throughput run measured a maximum (msg/s). */
const FALLBACK_MAX_RATE: Readonly<Record<string, number>> = {
  'in-memory': 20_000,
  rabbitmq: 2_000,
  kafka: 5_000,
  sqs: 500,
  nats: 2_000,
};
const ALL_BROKERS = ['rabbitmq', 'kafka', 'sqs', 'sns', 'azure', 'nats'];

/** Message counts of one transport in this run. */
function counts(
  opts: BenchOptions,
  tb: TransportBench,
): { throughput: number; sweep: number; ceiling: number; memory: readonly number[] } {
  const memoryBroker = [250, 500, 1000, 2000];
  const memoryInProcess = [500, 1000, 2000, 4000];
  if (opts.quick) {
    return {
      throughput: opts.messages ?? (tb.broker === undefined ? 2000 : 200),
      sweep: tb.broker === undefined ? 300 : 100,
      // Large enough for the CI guard's ratio to mean something (JIT warm-up dominates below ~5,000).
      ceiling: 10_000,
      memory: opts.memoryPoints ?? [10, 20],
    };
  }
  const throughput = opts.messages ?? tb.messages;
  return {
    throughput,
    sweep: Math.min(throughput, tb.broker === undefined ? 10_000 : 3000),
    ceiling: opts.messages ?? 50_000,
    memory: opts.memoryPoints ?? (tb.broker === undefined ? memoryInProcess : memoryBroker),
  };
}

/**
 * A subject's measured end-to-end maximum: 1 ÷ (1/publish + 1/drain), median over reps — the
 * rate one process sustains when publishing and draining at once compete for the same CPU
 * (the phases were measured separately, each with the whole machine).
 */
export function measuredMax(
  measurements: readonly Measurement[],
  transport: string,
  kind: string,
): number | undefined {
  const values = measurements
    .filter(
      (m) =>
        m.transport === transport &&
        m.workload === 'throughput' &&
        m.subject === kind &&
        m.error === undefined,
    )
    .map(
      (m) => 1 / (1 / (m.metrics['publishRate'] ?? Number.NaN) + 1 / (m.metrics['drainRate'] ?? Number.NaN)),
    );
  return summarize(values)?.median;
}

/** Run every selected transport and workload; returns the results (not yet written). */
export async function runBench(opts: BenchOptions, progress: Progress): Promise<BenchResults> {
  const versions = packageVersions();
  const notes: string[] = opts.transports.includes('azure')
    ? [
        'Azure Service Bus runs against our own emulator (tools/servicebus-emulator, a Node.js process): its absolute numbers measure the emulator, not Service Bus; read the Omnibus ÷ raw SDK ratio on the same emulator.',
      ]
    : [
        'Azure Service Bus not measured in this run (--transports azure: raw @azure/service-bus vs Omnibus on our emulator).',
      ];
  let nest: NestModules | undefined;
  if (!opts.nest) notes.push('NestJS comparison skipped (--no-nest).');
  else {
    const loaded = loadNest(opts.nestModules);
    if (typeof loaded === 'string') notes.push(`NestJS comparison skipped: ${loaded}.`);
    else {
      nest = loaded;
      Object.assign(versions, loaded.versions);
    }
  }
  const statusAtStart = await brokerStatus();
  const results: BenchResults = {
    meta: {
      startedAt: new Date().toISOString(),
      quick: opts.quick,
      options: {
        ...opts,
        workloads: [...opts.workloads],
        subjects: opts.subjects === undefined ? undefined : [...opts.subjects],
      },
      machine: machineInfo(),
      versions,
      brokers: Object.fromEntries(statusAtStart.map((b) => [b.name, { version: b.version, state: b.state }])),
      loadAverage: { start: loadavg() },
      subjects: {},
      notes,
    },
    measurements: [],
  };
  const stoppedByUs: string[] = [];
  try {
    for (const name of opts.transports) {
      const tb = transportBench(name, {
        versions,
        nest,
        rabbitQueueType: opts.rabbitQueueType,
        omnibusOptions: opts.omnibusOptions,
        quick: opts.quick,
      });
      const subjects = tb.subjects.filter((s) => opts.subjects === undefined || opts.subjects.has(s.kind));
      results.meta.subjects[name] = subjects.map((s) => ({
        kind: s.kind,
        label: s.label,
        settings: { ...tb.settings, ...s.settings },
      }));
      let pid: number | undefined;
      if (tb.broker !== undefined) {
        try {
          if (opts.exclusive) {
            for (const other of (await brokerStatus()).filter(
              (b) => b.name !== tb.broker && b.pid !== undefined && ALL_BROKERS.includes(b.name),
            )) {
              progress.note(`stopping ${other.name} (--exclusive)`);
              await stopBroker(other.name);
              stoppedByUs.push(other.name);
            }
          }
          if (opts.manageBrokers) {
            progress.note(`ensuring ${tb.broker} is up …`);
            await ensureBroker(tb.broker);
          }
        } catch (error) {
          notes.push(`${name}: broker not available (${errorText(error)}); transport skipped.`);
          progress.note(`✖ ${name}: broker not available: ${errorText(error)}`);
          continue;
        }
        const status: BrokerStatus[] = await brokerStatus();
        pid = status.find((b) => b.name === tb.broker)?.pid;
        const others = status.filter((b) => b.name !== tb.broker && b.pid !== undefined).map((b) => b.name);
        notes.push(
          `${name}: measured with ${others.length === 0 ? 'no other broker' : `${others.join(', ')} also running (idle unless other work used them)`}; load average at start ${loadavg()
            .map((l) => l.toFixed(2))
            .join(' / ')}.`,
        );
      }
      if (tb.broker === undefined)
        notes.push(
          `${name}: load average at start ${loadavg()
            .map((l) => l.toFixed(2))
            .join(' / ')}.`,
        );
      const env: CellEnv = {
        opts,
        progress,
        transport: { ...tb, subjects },
        brokerPid: pid,
        record: (m) => results.measurements.push(m),
      };
      await runTransport(env, subjects, results);
      if (tb.broker !== undefined) {
        const after = (await brokerStatus()).find((b) => b.name === tb.broker)?.pid;
        if (after !== pid)
          notes.push(
            `${name}: the broker process changed during the run (pid ${String(pid)} → ${String(after)}): something else restarted it; cells failing around then are not Omnibus's doing.`,
          );
      }
      notes.push(
        `${name}: load average at end ${loadavg()
          .map((l) => l.toFixed(2))
          .join(' / ')}.`,
      );
    }
  } finally {
    for (const broker of stoppedByUs) {
      progress.note(`restarting ${broker} (stopped for --exclusive)`);
      await ensureBroker(broker).catch((error: unknown) =>
        progress.note(`✖ restarting ${broker}: ${errorText(error)}`),
      );
    }
  }
  results.meta.finishedAt = new Date().toISOString();
  results.meta.loadAverage.end = loadavg();
  return results;
}

async function runTransport(
  env: CellEnv,
  subjects: readonly SubjectFactory[],
  results: BenchResults,
): Promise<void> {
  const { opts, transport: tb, progress } = env;
  const n = counts(opts, tb);
  const reps = opts.reps;
  const w = opts.workloads;
  const latencyRates = opts.loadLevels.length;
  const memoryReps = Math.min(reps, 3);
  let planned = 0;
  // The ceiling runs at least 3 repetitions even with --quick: the CI guard takes their median.
  const ceilingReps = Math.max(3, reps);
  if (w.has('ceiling') && tb.broker === undefined)
    planned += ceilingReps * (2 + CEILING_VARIANTS.length * subjects.length);
  if (w.has('throughput')) planned += reps * subjects.length;
  if (w.has('sweep')) planned += reps * subjects.length * opts.handlerCostsUs.filter((c) => c > 0).length;
  if (w.has('latency')) planned += reps * subjects.length * (latencyRates + opts.latencyRates.length);
  if (w.has('memory')) planned += memoryReps * subjects.length * n.memory.length;
  progress.extend(planned);
  progress.note(`── ${tb.name}: ${subjects.map((s) => `${s.kind} = ${s.label}`).join('; ')}`);

  if (w.has('ceiling') && tb.broker === undefined) {
    for (let rep = 0; rep < ceilingReps; rep++) {
      await baselineCeilingCell(env, 'emitter', rep, n.ceiling);
      await baselineCeilingCell(env, 'async-loop', rep, n.ceiling);
      for (const variant of CEILING_VARIANTS)
        for (const s of subjects) await subjectCeilingCell(env, s, rep, n.ceiling, variant);
    }
  }
  if (w.has('throughput')) {
    for (let rep = 0; rep < reps; rep++) {
      for (const s of subjects)
        await throughputCell(env, s, rep, {
          workload: 'throughput',
          variant: 'cost-0',
          messages: n.throughput,
          costUs: 0,
        });
    }
  }
  if (w.has('sweep')) {
    for (const cost of opts.handlerCostsUs.filter((c) => c > 0)) {
      for (let rep = 0; rep < reps; rep++) {
        for (const s of subjects)
          await throughputCell(env, s, rep, {
            workload: 'sweep',
            variant: `cost-${String(cost)}us`,
            messages: n.sweep,
            costUs: cost,
          });
      }
    }
  }
  if (w.has('latency')) {
    const maxima = ['omnibus', 'raw']
      .map((kind) => measuredMax(results.measurements, tb.name, kind))
      .filter((v): v is number => v !== undefined);
    const base = maxima.length > 0 ? Math.min(...maxima) : (FALLBACK_MAX_RATE[tb.name] ?? 1000);
    if (maxima.length === 0)
      results.meta.notes.push(
        `${tb.name}: latency rates based on a fallback maximum of ${String(base)} msg/s (no throughput run).`,
      );
    for (const level of opts.loadLevels) {
      const rate = Math.max(10, Math.round(base * level));
      for (let rep = 0; rep < reps; rep++) {
        for (const s of subjects)
          await latencyCell(env, s, rep, `load-${String(Math.round(level * 100))}`, rate);
      }
    }
    for (const rate of opts.latencyRates) {
      for (let rep = 0; rep < reps; rep++) {
        for (const s of subjects)
          await latencyCell(env, s, rep, `rate-${String(Math.round(rate))}`, Math.round(rate));
      }
    }
  }
  if (w.has('memory')) {
    for (let rep = 0; rep < memoryReps; rep++) {
      for (const k of n.memory) {
        for (const s of subjects) {
          if (s.maxInFlight !== undefined && k > s.maxInFlight) {
            if (rep === 0 && k === n.memory[0]) {
              results.meta.notes.push(
                `${tb.name}: no memory runs for ${s.kind}: it runs at most ${String(s.maxInFlight)} handlers at once (one per partition), so K messages cannot be held in flight.`,
              );
            }
            continue;
          }
          await memoryCell(env, s, rep, k);
        }
      }
    }
  }
}
