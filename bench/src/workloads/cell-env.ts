import { randomBytes } from 'node:crypto';
import { spin, sleep } from '../async-utils.js';
import type { BenchOptions } from '../options.js';
import type { BenchPayload } from '../payload.js';
import type { Progress } from '../progress.js';
import type { Measurement } from '../results.js';
import type { TransportBench } from '../subjects/transports.js';

/** What every workload gets from the harness. */
export interface CellEnv {
  readonly opts: BenchOptions;
  readonly progress: Progress;
  readonly transport: TransportBench;
  /** PID of the broker process, for its CPU time. */
  readonly brokerPid: number | undefined;
  record(measurement: Measurement): void;
}

let runCounter = 0;
const session = randomBytes(3).toString('hex');

/** A short id unique to one run (used in every queue/topic/group name). */
export function newRunId(): string {
  runCounter += 1;
  return `${session}${String(runCounter).padStart(4, '0')}`;
}

/** The handler's simulated work: nothing, a busy spin (< 1000 µs) or an awaited timer (≥ 1000 µs). */
export function handlerWork(costUs: number): () => void | Promise<void> {
  if (costUs <= 0) return () => undefined;
  if (costUs < 1000) return () => spin(costUs);
  return () => sleep(costUs / 1000);
}

/** Force two full collections when `--expose-gc` is on. */
export function collectGarbage(): void {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    gc();
  }
}

/** Tracks which sequence numbers arrived: unique count, duplicates, first/last arrival. */
export class ArrivalLog {
  readonly #seen: Uint8Array;
  unique = 0;
  duplicates = 0;
  firstAt = 0;
  lastAt = 0;
  #waiters: { target: number; resolve: () => void }[] = [];
  #lastProgressAt = performance.now();
  /** Called once, at the first arrival (e.g. to snapshot CPU). */
  onFirst: (() => void) | undefined;
  /** Called once, when `expected` unique messages arrived. */
  onAll: (() => void) | undefined;

  constructor(readonly expected: number) {
    this.#seen = new Uint8Array(expected);
  }

  /** Record the arrival of `payload` (call after the handler's work). */
  arrive(payload: BenchPayload): void {
    const now = performance.now();
    this.#lastProgressAt = now;
    if (this.unique === 0 && this.duplicates === 0) {
      this.firstAt = now;
      this.onFirst?.();
    }
    if (payload.seq < this.expected && this.#seen[payload.seq] === 0) {
      this.#seen[payload.seq] = 1;
      this.unique += 1;
      this.lastAt = now;
      if (this.unique === this.expected) this.onAll?.();
      if (this.#waiters.length > 0 && this.#waiters.some((w) => w.target <= this.unique)) {
        const due = this.#waiters.filter((w) => w.target <= this.unique);
        this.#waiters = this.#waiters.filter((w) => w.target > this.unique);
        for (const w of due) w.resolve();
      }
    } else this.duplicates += 1;
  }

  /** Resolves when `target` unique messages arrived; rejects after `stallMs` without any arrival. */
  async reach(target: number, stallMs: number): Promise<void> {
    if (this.unique >= target) return;
    const reached = new Promise<void>((resolve) => this.#waiters.push({ target, resolve }));
    let done = false;
    void reached.then(() => {
      done = true;
    });
    this.#lastProgressAt = performance.now();
    while (!done) {
      await Promise.race([reached, sleep(250)]);
      if (!done && performance.now() - this.#lastProgressAt > stallMs) {
        throw new Error(`stalled at ${String(this.unique)}/${String(target)} messages (no arrival for ${String(stallMs / 1000)} s)`);
      }
    }
  }
}

/** One-line error text. */
export function errorText(error: unknown): string {
  return error instanceof Error ? error.message.split('\n')[0] ?? error.name : String(error);
}

/** `12,345` */
export function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : '–';
}
