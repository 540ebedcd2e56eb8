import type { LatencyPercentiles } from './stats.js';
import type { SubjectKind } from './subjects/subject.js';

/** One measured cell: one subject, one workload variant, one repetition. */
export interface Measurement {
  readonly transport: string;
  /** `throughput`, `sweep`, `latency`, `ceiling`, `memory`. */
  readonly workload: string;
  /** e.g. `cost-100us`, `rate-50`, `emitter`. */
  readonly variant: string;
  readonly subject: SubjectKind | 'emitter' | 'async-loop';
  readonly rep: number;
  readonly metrics: Readonly<Record<string, number>>;
  readonly latency?: LatencyPercentiles;
  readonly publishDelay?: LatencyPercentiles;
  /** Set when the cell failed; metrics are then empty. */
  readonly error?: string;
}

/** Everything one harness run produced (written as JSON to bench/results/). */
export interface BenchResults {
  readonly meta: {
    readonly startedAt: string;
    finishedAt?: string;
    readonly quick: boolean;
    readonly options: Readonly<Record<string, unknown>>;
    readonly machine: Readonly<Record<string, unknown>>;
    readonly versions: Readonly<Record<string, string>>;
    readonly brokers: Readonly<Record<string, unknown>>;
    readonly loadAverage: { start: readonly number[]; end?: readonly number[] };
    readonly subjects: Record<string, { kind: SubjectKind; label: string; settings: Readonly<Record<string, unknown>> }[]>;
    readonly notes: string[];
  };
  readonly measurements: Measurement[];
}
