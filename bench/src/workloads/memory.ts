import { sleep, windowed, withTimeout } from '../async-utils.js';
import { makePayload, type BenchPayload } from '../payload.js';
import type { SubjectFactory } from '../subjects/subject.js';
import { ArrivalLog, collectGarbage, errorText, fmt, newRunId, type CellEnv } from './cell-env.js';

/**
 * Memory per in-flight message: with concurrency K, publish K messages and let every handler
 * block on a gate until all K are inside handlers; then collect garbage and sample heapUsed,
 * external (includes ArrayBuffers) and rss. The report fits the slope of each against K.
 * One cell per (K, rep); the gate opens afterwards and the run drains.
 */
export async function memoryCell(env: CellEnv, factory: SubjectFactory, rep: number, inFlight: number): Promise<void> {
  const { opts, progress, transport } = env;
  const log = new ArrivalLog(inFlight);
  let release!: () => void;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const onMessage = async (payload: BenchPayload): Promise<void> => {
    log.arrive(payload);
    await gate;
  };
  const subject = factory.create({ runId: newRunId(), concurrency: inFlight, onMessage });
  const batch = Math.min(opts.publishBatch, factory.maxBatch ?? Number.MAX_SAFE_INTEGER);
  progress.begin(`${transport.name} memory ${fmt(inFlight)} in flight ${factory.kind} rep ${String(rep + 1)}`, () => `${fmt(log.unique)}/${fmt(inFlight)} in handlers`);
  try {
    await withTimeout(subject.open(), 120_000, 'open timed out');
    await windowed(Math.ceil(inFlight / batch), opts.publishWindow, async (i) => {
      const payloads: BenchPayload[] = [];
      for (let seq = i * batch; seq < Math.min(inFlight, (i + 1) * batch); seq++) payloads.push(makePayload(seq, 0, opts.sizeBytes));
      await subject.publishBatch(payloads);
    });
    await withTimeout(subject.startConsumer(), 120_000, 'consumer start timed out');
    await log.reach(inFlight, opts.quick ? 15_000 : 60_000);
    await sleep(200);
    collectGarbage();
    const usage = process.memoryUsage();
    const metrics = {
      inFlight,
      heapUsed: usage.heapUsed,
      external: usage.external,
      arrayBuffers: usage.arrayBuffers,
      rss: usage.rss,
    };
    env.record({ transport: transport.name, workload: 'memory', variant: `inflight-${String(inFlight)}`, subject: factory.kind, rep, metrics });
    progress.end(`heap ${fmt(usage.heapUsed / 2 ** 20, 1)} MiB, external ${fmt(usage.external / 2 ** 20, 1)} MiB`);
  } catch (error) {
    env.record({ transport: transport.name, workload: 'memory', variant: `inflight-${String(inFlight)}`, subject: factory.kind, rep, metrics: { inFlight }, error: errorText(error) });
    progress.end(`FAILED: ${errorText(error)}`);
  } finally {
    release();
    await withTimeout(subject.close(), 60_000, 'close timed out').catch((error: unknown) => progress.note(`  close: ${errorText(error)}`));
  }
}
