import { nextTurn, sleep, withTimeout } from '../async-utils.js';
import { makePayload, type BenchPayload } from '../payload.js';
import { latencyPercentiles } from '../stats.js';
import type { SubjectFactory } from '../subjects/subject.js';
import { ArrivalLog, collectGarbage, errorText, fmt, newRunId, type CellEnv } from './cell-env.js';

/** Most publish calls in flight before the producer waits (the wait shows up as latency). */
const MAX_OUTSTANDING_CALLS = 2000;

/**
 * End-to-end latency at a fixed rate, open loop (OMB style). Message i has the intended send
 * time start + i ÷ rate; on every scheduler turn the producer sends the messages whose intended
 * time has passed in one batch call (≤ the subject's max batch). Latency = handler arrival −
 * intended send time, so a producer or consumer that falls behind shows up as latency
 * (coordinated-omission-safe); publish delay = actual − intended send time. The first
 * `warmupSeconds` of messages are not recorded.
 */
export async function latencyCell(env: CellEnv, factory: SubjectFactory, rep: number, variant: string, rate: number): Promise<void> {
  const { opts, progress, transport } = env;
  const warmupCount = Math.round(rate * opts.warmupSeconds);
  const total = warmupCount + Math.max(1, Math.round(rate * opts.latencySeconds));
  const log = new ArrivalLog(total);
  const samples = new Float64Array(total - warmupCount);
  const delays = new Float64Array(total - warmupCount);
  const acks = new Float64Array(total - warmupCount);
  const onMessage = (payload: BenchPayload): void => {
    if (payload.seq >= warmupCount && payload.seq < total) samples[payload.seq - warmupCount] = performance.now() - payload.t;
    log.arrive(payload);
  };
  const subject = factory.create({ runId: newRunId(), concurrency: opts.concurrency, onMessage });
  const maxBatch = Math.min(factory.maxBatch ?? 1000, 1000);
  let sent = 0;
  let failures = 0;
  let phase = 'open';
  progress.begin(`${transport.name} latency ${variant} (${fmt(rate)} msg/s) ${factory.kind} rep ${String(rep + 1)}`, () =>
    phase === 'run' ? `sent ${fmt(sent)}/${fmt(total)}, received ${fmt(log.unique)}` : phase,
  );
  collectGarbage();
  try {
    await withTimeout(subject.open(), 120_000, 'open timed out');
    await withTimeout(subject.startConsumer(), 120_000, 'consumer start timed out');
    await sleep(opts.quick ? 50 : 500);
    phase = 'run';
    const interval = 1000 / rate;
    const start = performance.now() + 2;
    let outstanding = 0;
    let cpuMeasureStart: NodeJS.CpuUsage | undefined;
    let measureStartAt = 0;
    while (sent < total) {
      const now = performance.now();
      while (sent < total && start + sent * interval <= now) {
        const payloads: BenchPayload[] = [];
        while (sent < total && payloads.length < maxBatch && start + sent * interval <= now) {
          const intended = start + sent * interval;
          if (sent === warmupCount) {
            cpuMeasureStart = process.cpuUsage();
            measureStartAt = intended;
          }
          if (sent >= warmupCount) delays[sent - warmupCount] = now - intended;
          payloads.push(makePayload(sent, intended, opts.sizeBytes));
          sent += 1;
        }
        outstanding += 1;
        subject.publishBatch(payloads).then(
          () => {
            outstanding -= 1;
            const at = performance.now();
            for (const p of payloads) if (p.seq >= warmupCount) acks[p.seq - warmupCount] = at - p.t;
          },
          () => {
            outstanding -= 1;
            failures += payloads.length;
          },
        );
        while (outstanding >= MAX_OUTSTANDING_CALLS) await nextTurn();
      }
      const wait = start + sent * interval - performance.now();
      if (wait > 2) await sleep(wait - 1);
      else await nextTurn();
    }
    await log.reach(total - failures, opts.quick ? 15_000 : 30_000);
    const cpu = cpuMeasureStart === undefined ? undefined : process.cpuUsage(cpuMeasureStart);
    const measured = total - warmupCount;
    const latency = latencyPercentiles(samples);
    const publishDelay = latencyPercentiles(delays);
    const publishAck = latencyPercentiles(acks);
    const metrics: Record<string, number> = {
      targetRate: rate,
      achievedRate: measured > 1 ? ((measured - 1) / (start + (total - 1) * interval - measureStartAt)) * 1000 : Number.NaN,
      cpuUsPerMsg: cpu === undefined ? Number.NaN : (cpu.user + cpu.system) / measured,
      p50: latency.p50,
      p90: latency.p90,
      p99: latency.p99,
      max: latency.max,
      publishDelayP99: publishDelay.p99,
      publishAckP50: publishAck.p50,
      publishAckP99: publishAck.p99,
      failures,
      duplicates: log.duplicates,
    };
    env.record({ transport: transport.name, workload: 'latency', variant, subject: factory.kind, rep, metrics, latency, publishDelay });
    progress.end(`p50 ${fmt(latency.p50, 2)} ms, p99 ${fmt(latency.p99, 2)} ms, max ${fmt(latency.max, 1)} ms; publish confirmed p50 ${fmt(publishAck.p50, 2)} ms`);
  } catch (error) {
    env.record({ transport: transport.name, workload: 'latency', variant, subject: factory.kind, rep, metrics: { targetRate: rate }, error: errorText(error) });
    progress.end(`FAILED: ${errorText(error)}`);
  } finally {
    await withTimeout(subject.close(), 60_000, 'close timed out').catch((error: unknown) => progress.note(`  close: ${errorText(error)}`));
  }
}
