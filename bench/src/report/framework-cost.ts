import type { BenchResults } from '../results.js';
import { Aggregate, ratio } from './aggregate.js';

/** Omnibus against the raw in-memory baseline in one ceiling variant (medians over the repetitions). */
export interface FrameworkCost {
  readonly variant: string;
  readonly omnibusRate: number;
  readonly rawRate: number;
  /** Omnibus rate ÷ raw rate (wall clock: sensitive to whatever else runs on the machine). */
  readonly ratio: number;
  /**
   * Raw CPU per message ÷ Omnibus CPU per message: the throughput ratio the two would have if
   * each had the CPU to itself. Much less sensitive to other load than {@link ratio}; the CI
   * guard uses it.
   */
  readonly cpuRatio: number;
  readonly omnibusCpuUs: number;
  readonly rawCpuUs: number;
  /** Omnibus CPU µs/msg − raw CPU µs/msg: the framework's own cost per message. */
  readonly frameworkUs: number;
}

/** Framework cost of every in-memory ceiling variant both subjects ran. Pure. */
export function frameworkCosts(results: BenchResults): FrameworkCost[] {
  const agg = new Aggregate(results);
  const out: FrameworkCost[] = [];
  for (const variant of agg.variants('in-memory', 'ceiling')) {
    const rate = (kind: string) => agg.stat('in-memory', 'ceiling', variant, kind, 'rate');
    const cpu = (kind: string) =>
      agg.stat('in-memory', 'ceiling', variant, kind, 'cpuUsPerMsg')?.median ?? Number.NaN;
    const fw = rate('omnibus');
    const raw = rate('raw');
    if (fw === undefined || raw === undefined) continue;
    out.push({
      variant,
      omnibusRate: fw.median,
      rawRate: raw.median,
      ratio: ratio(fw, raw),
      cpuRatio: cpu('raw') / cpu('omnibus'),
      omnibusCpuUs: cpu('omnibus'),
      rawCpuUs: cpu('raw'),
      frameworkUs: cpu('omnibus') - cpu('raw'),
    });
  }
  return out;
}

/** The committed reference the CI guard compares with (bench/baseline.json). */
export interface CostBaseline {
  /** In-memory e2e-batch CPU ratio ({@link FrameworkCost.cpuRatio}) of `bench --quick` when the file was written. */
  readonly inMemoryCpuRatio: number;
  readonly note?: string;
}

/**
 * The CI guard: fails only on a gross regression, i.e. when the in-memory e2e-batch CPU ratio
 * falls below half of the committed baseline (timings on shared CI machines are noisy; the CPU
 * ratio compares CPU time per message, which other processes disturb far less than wall time).
 * Returns the lines to print and whether the run passes. Pure.
 */
export function checkAgainstBaseline(
  costs: readonly FrameworkCost[],
  baseline: CostBaseline | undefined,
): { lines: string[]; ok: boolean } {
  const lines: string[] = [];
  for (const c of costs) {
    lines.push(
      `in-memory ${c.variant}: Omnibus ÷ raw = ${c.ratio.toFixed(3)} (${Math.round(c.omnibusRate).toLocaleString('en-US')} vs ${Math.round(c.rawRate).toLocaleString('en-US')} msg/s), by CPU ${c.cpuRatio.toFixed(3)}; ` +
        `CPU ${c.omnibusCpuUs.toFixed(2)} vs ${c.rawCpuUs.toFixed(2)} µs/msg → framework ${c.frameworkUs.toFixed(2)} µs/msg`,
    );
  }
  const batch = costs.find((c) => c.variant === 'e2e-batch');
  if (baseline === undefined || batch === undefined || !Number.isFinite(batch.cpuRatio)) {
    lines.push('cost guard: no baseline or no e2e-batch measurement; nothing checked');
    return { lines, ok: true };
  }
  const floor = baseline.inMemoryCpuRatio / 2;
  const ok = batch.cpuRatio >= floor;
  lines.push(
    `cost guard: e2e-batch CPU ratio ${batch.cpuRatio.toFixed(3)} vs committed baseline ${baseline.inMemoryCpuRatio.toFixed(3)} (fails below ${floor.toFixed(3)}): ${ok ? 'ok' : 'GROSS REGRESSION (bench/baseline.json)'}`,
  );
  return { lines, ok };
}
