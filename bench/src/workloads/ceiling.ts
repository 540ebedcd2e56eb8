import { EventEmitter } from 'node:events';
import { windowed } from '../async-utils.js';
import { makePayload, type BenchPayload, type PayloadCodec } from '../payload.js';
import type { SubjectFactory } from '../subjects/subject.js';
import { ArrivalLog, collectGarbage, errorText, fmt, newRunId, type CellEnv } from './cell-env.js';

/**
 * In-process dispatch ceiling (W0): the same no-op handler called N times by
 * (a) `EventEmitter.emit` (synchronous), (b) a plain `for … await handler(msg)` loop,
 * (c) a subject end to end — publish and consume overlapping — either with batch publishes
 * (`publishBatch` of `publishBatch` messages, `publishWindow` in flight) or with single
 * `publish` calls (256 in flight). Rate = N ÷ (last arrival − first publish).
 */
export async function baselineCeilingCell(env: CellEnv, kind: 'emitter' | 'async-loop', rep: number, n: number): Promise<void> {
  const { progress, transport } = env;
  const payloads = Array.from({ length: n }, (_, i) => makePayload(i, 0, 16));
  let count = 0;
  const handler = (payload: BenchPayload): void => {
    count += payload.seq >= 0 ? 1 : 0;
  };
  progress.begin(`${transport.name} ceiling ${kind} rep ${String(rep + 1)}`, () => `${fmt(count)}/${fmt(n)}`);
  collectGarbage();
  const t0 = performance.now();
  if (kind === 'emitter') {
    const emitter = new EventEmitter();
    emitter.on('message', handler);
    for (const p of payloads) emitter.emit('message', p);
  } else {
    // An async function that awaits nothing: the cost of one promise per call, like a no-op async handler.
    // eslint-disable-next-line @typescript-eslint/require-await
    const asyncHandler = async (payload: BenchPayload): Promise<void> => handler(payload);
    for (const p of payloads) await asyncHandler(p);
  }
  const ms = performance.now() - t0;
  env.record({ transport: transport.name, workload: 'ceiling', variant: kind, subject: kind, rep, metrics: { messages: n, rate: (count / ms) * 1000 } });
  progress.end(`${fmt((count / ms) * 1000)} msg/s`);
}

/** One in-process ceiling variant: how messages are published, which codec, and whether anyone consumes. */
export interface CeilingVariant {
  /** `e2e-batch`, `e2e-single`, `e2e-batch-pass-through`, `publish-single`. */
  readonly name: string;
  readonly mode: 'batch' | 'single';
  readonly codec: PayloadCodec;
  /** False: publish only (no consumer; rate and CPU of the publish path alone). */
  readonly consume: boolean;
}

/** The variants every in-process subject runs, in this order (interleaved per repetition). */
export const CEILING_VARIANTS: readonly CeilingVariant[] = [
  { name: 'e2e-batch', mode: 'batch', codec: 'json', consume: true },
  { name: 'e2e-single', mode: 'single', codec: 'json', consume: true },
  { name: 'e2e-batch-pass-through', mode: 'batch', codec: 'pass-through', consume: true },
  { name: 'publish-single', mode: 'single', codec: 'json', consume: false },
];

/**
 * End-to-end in-process rate of `factory` (see {@link baselineCeilingCell}) with `opts.sizeBytes`
 * payloads. Rate = N ÷ (last arrival − first publish); CPU = this process's CPU over the same
 * span ÷ N. With `consume: false` only the publishes are timed (until the last resolved).
 */
export async function subjectCeilingCell(env: CellEnv, factory: SubjectFactory, rep: number, n: number, variant: CeilingVariant): Promise<void> {
  const { progress, transport, opts } = env;
  const log = new ArrivalLog(n);
  const size = opts.sizeBytes;
  const subject = factory.create({ runId: newRunId(), concurrency: opts.concurrency, onMessage: (p) => log.arrive(p), codec: variant.codec, sizeBytes: size });
  let published = 0;
  progress.begin(`${transport.name} ceiling ${variant.name} ${factory.kind} rep ${String(rep + 1)}`, () => (variant.consume ? `${fmt(log.unique)}/${fmt(n)}` : `${fmt(published)}/${fmt(n)} published`));
  collectGarbage();
  try {
    await subject.open();
    if (variant.consume) await subject.startConsumer();
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    if (variant.mode === 'batch') {
      const batch = opts.publishBatch;
      await windowed(Math.ceil(n / batch), opts.publishWindow, async (i) => {
        const payloads: BenchPayload[] = [];
        for (let seq = i * batch; seq < Math.min(n, (i + 1) * batch); seq++) payloads.push(makePayload(seq, 0, size));
        await subject.publishBatch(payloads);
        published += payloads.length;
      });
    } else {
      await windowed(n, 256, async (seq) => {
        await subject.publish(makePayload(seq, 0, size));
        published += 1;
      });
    }
    let end = performance.now();
    if (variant.consume) {
      await log.reach(n, 30_000);
      end = log.lastAt;
    }
    const cpu = process.cpuUsage(cpu0);
    const ms = end - t0;
    const metrics = { messages: n, rate: (n / ms) * 1000, cpuUsPerMsg: (cpu.user + cpu.system) / n, duplicates: log.duplicates };
    env.record({ transport: transport.name, workload: 'ceiling', variant: variant.name, subject: factory.kind, rep, metrics });
    progress.end(`${fmt(metrics.rate)} msg/s, ${fmt(metrics.cpuUsPerMsg, 2)} µs CPU/msg`);
  } catch (error) {
    env.record({ transport: transport.name, workload: 'ceiling', variant: variant.name, subject: factory.kind, rep, metrics: {}, error: errorText(error) });
    progress.end(`FAILED: ${errorText(error)}`);
  } finally {
    await subject.close().catch(() => undefined);
  }
}
