import type { BenchResults, Measurement } from '../results.js';
import { linearFit, summarize, type Summary } from '../stats.js';

/** Query helpers over one results file. Pure. */
export class Aggregate {
  constructor(readonly results: BenchResults) {}

  /** Successful cells matching the filter. */
  cells(transport: string, workload: string, variant?: string, subject?: string): Measurement[] {
    return this.results.measurements.filter(
      (m) =>
        m.error === undefined &&
        m.transport === transport &&
        m.workload === workload &&
        (variant === undefined || m.variant === variant) &&
        (subject === undefined || m.subject === subject),
    );
  }

  /** Failed cells. */
  failures(): Measurement[] {
    return this.results.measurements.filter((m) => m.error !== undefined);
  }

  /** Summary of one metric over the repetitions of one cell. */
  stat(transport: string, workload: string, variant: string, subject: string, metric: string): Summary | undefined {
    return summarize(this.cells(transport, workload, variant, subject).map((m) => m.metrics[metric] ?? Number.NaN));
  }

  /** Summary of min(publishRate, drainRate) per repetition: the end-to-end maximum. */
  endToEnd(transport: string, workload: string, variant: string, subject: string): Summary | undefined {
    return summarize(
      this.cells(transport, workload, variant, subject).map((m) => Math.min(m.metrics['publishRate'] ?? Number.NaN, m.metrics['drainRate'] ?? Number.NaN)),
    );
  }

  /** Distinct values of a field in the cells of a transport/workload, in first-seen order. */
  variants(transport: string, workload: string): string[] {
    return [...new Set(this.cells(transport, workload).map((m) => m.variant))];
  }

  subjects(transport: string, workload: string): string[] {
    return [...new Set(this.cells(transport, workload).map((m) => m.subject))];
  }

  transports(): string[] {
    return [...new Set(this.results.measurements.map((m) => m.transport))];
  }

  /** Memory slope (bytes per in-flight message) of `metric` (or a sum of metrics) for one subject. */
  memorySlope(transport: string, subject: string, metrics: readonly string[]): { slope: number; r2: number; points: [number, number][] } {
    const points = this.cells(transport, 'memory', undefined, subject).map(
      (m): [number, number] => [m.metrics['inFlight'] ?? Number.NaN, metrics.reduce((sum, name) => sum + (m.metrics[name] ?? Number.NaN), 0)],
    );
    const fit = linearFit(
      points.map((p) => p[0]),
      points.map((p) => p[1]),
    );
    return { slope: fit.slope, r2: fit.r2, points };
  }
}

/** Ratio of medians, NaN when either is missing. */
export function ratio(a: Summary | undefined, b: Summary | undefined): number {
  if (a === undefined || b === undefined || b.median === 0) return Number.NaN;
  return a.median / b.median;
}
