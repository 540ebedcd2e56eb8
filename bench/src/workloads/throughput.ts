import { withTimeout, windowed } from '../async-utils.js';
import { processCpuMicros } from '../brokers.js';
import { makePayload, type BenchPayload } from '../payload.js';
import type { SubjectFactory } from '../subjects/subject.js';
import { ArrivalLog, collectGarbage, errorText, fmt, handlerWork, newRunId, type CellEnv } from './cell-env.js';

/** Parameters of one throughput cell. */
export interface ThroughputParams {
  readonly workload: 'throughput' | 'sweep';
  readonly variant: string;
  readonly messages: number;
  readonly costUs: number;
}

/**
 * Watermill-style max throughput, phases measured separately. Publish phase: `messages`
 * messages in batch calls of `publishBatch` (≤ the subject's max) with `publishWindow` calls
 * in flight, timed until the last call resolved (broker-confirmed). Drain phase: the consumer
 * starts on the full backlog; the rate is (N − 1) ÷ (last − first arrival), so connect and
 * group-join time are excluded. CPU (this process and the broker) is measured over the same
 * spans and divided by N.
 */
export async function throughputCell(env: CellEnv, factory: SubjectFactory, rep: number, params: ThroughputParams): Promise<void> {
  const { opts, progress, transport } = env;
  const n = params.messages;
  const batch = Math.min(opts.publishBatch, factory.maxBatch ?? Number.MAX_SAFE_INTEGER);
  const log = new ArrivalLog(n);
  const work = handlerWork(params.costUs);
  let cpuFirst: NodeJS.CpuUsage | undefined;
  let cpuLast: NodeJS.CpuUsage | undefined;
  let brokerFirst: number | undefined;
  let brokerLast: number | undefined;
  log.onFirst = () => {
    cpuFirst = process.cpuUsage();
    brokerFirst = processCpuMicros(env.brokerPid);
  };
  log.onAll = () => {
    cpuLast = process.cpuUsage();
    brokerLast = processCpuMicros(env.brokerPid);
  };
  const onMessage = (payload: BenchPayload): void | Promise<void> => {
    const result = work();
    if (result === undefined) {
      log.arrive(payload);
      return undefined;
    }
    return result.then(() => log.arrive(payload));
  };
  const subject = factory.create({ runId: newRunId(), concurrency: opts.concurrency, onMessage });
  let phase = 'open';
  let published = 0;
  progress.begin(`${transport.name} ${params.workload} ${params.variant} ${factory.kind} rep ${String(rep + 1)}`, () =>
    phase === 'publish' ? `publishing ${fmt(published)}/${fmt(n)}` : phase === 'drain' ? `draining ${fmt(log.unique)}/${fmt(n)}` : phase,
  );
  collectGarbage();
  try {
    await withTimeout(subject.open(), 120_000, 'open timed out');
    phase = 'publish';
    const cpu0 = process.cpuUsage();
    const broker0 = processCpuMicros(env.brokerPid);
    const t0 = performance.now();
    await windowed(Math.ceil(n / batch), opts.publishWindow, async (i) => {
      const payloads: BenchPayload[] = [];
      const end = Math.min(n, (i + 1) * batch);
      for (let seq = i * batch; seq < end; seq++) payloads.push(makePayload(seq, performance.now(), opts.sizeBytes));
      await subject.publishBatch(payloads);
      published += payloads.length;
    });
    const publishMs = performance.now() - t0;
    const publishCpu = process.cpuUsage(cpu0);
    const broker1 = processCpuMicros(env.brokerPid);
    phase = 'drain';
    await withTimeout(subject.startConsumer(), 120_000, 'consumer start timed out');
    await log.reach(n, opts.quick ? 15_000 : 30_000);
    const drainMs = log.lastAt - log.firstAt;
    const drainCpuUs =
      cpuFirst === undefined || cpuLast === undefined ? Number.NaN : cpuLast.user + cpuLast.system - cpuFirst.user - cpuFirst.system;
    const metrics: Record<string, number> = {
      messages: n,
      publishRate: (n / publishMs) * 1000,
      drainRate: n > 1 && drainMs > 0 ? ((n - 1) / drainMs) * 1000 : Number.NaN,
      publishCpuUsPerMsg: (publishCpu.user + publishCpu.system) / n,
      drainCpuUsPerMsg: drainCpuUs / n,
      duplicates: log.duplicates,
      lost: n - log.unique,
      publishBatch: batch,
    };
    if (broker0 !== undefined && broker1 !== undefined) metrics['brokerPublishCpuUsPerMsg'] = (broker1 - broker0) / n;
    if (brokerFirst !== undefined && brokerLast !== undefined) metrics['brokerDrainCpuUsPerMsg'] = (brokerLast - brokerFirst) / n;
    env.record({ transport: transport.name, workload: params.workload, variant: params.variant, subject: factory.kind, rep, metrics });
    progress.end(`publish ${fmt(metrics['publishRate'] as number)} msg/s, drain ${fmt(metrics['drainRate'] as number)} msg/s, ${fmt(metrics['drainCpuUsPerMsg'] as number, 1)} µs CPU/msg`);
  } catch (error) {
    env.record({ transport: transport.name, workload: params.workload, variant: params.variant, subject: factory.kind, rep, metrics: {}, error: errorText(error) });
    progress.end(`FAILED: ${errorText(error)}`);
  } finally {
    await withTimeout(subject.close(), 60_000, 'close timed out').catch((error: unknown) => progress.note(`  close: ${errorText(error)}`));
  }
}
