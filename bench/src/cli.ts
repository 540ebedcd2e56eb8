#!/usr/bin/env node
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { REPO_ROOT } from './brokers.js';
import { parseOptions } from './options.js';
import { Progress, formatDuration } from './progress.js';
import { writeReport, type ReportPaths } from './report/write-report.js';
import type { BenchResults } from './results.js';
import { mergeResults } from './merge-results.js';
import { checkAgainstBaseline, frameworkCosts, type CostBaseline } from './report/framework-cost.js';
import { runBench } from './run-bench.js';
import { renderBeforeAfter, spliceSection } from './report/before-after.js';

// Memory runs need --expose-gc: re-run this script with it when it is missing.
if ((globalThis as { gc?: unknown }).gc === undefined && process.env['OMNIBUS_BENCH_CHILD'] === undefined) {
  const child = spawnSync(process.execPath, ['--expose-gc', ...process.execArgv, ...process.argv.slice(1)], {
    stdio: 'inherit',
    env: { ...process.env, OMNIBUS_BENCH_CHILD: '1' },
  });
  process.exit(child.status ?? 1);
}

function reportPaths(dir: string | undefined): ReportPaths | undefined {
  return dir === undefined
    ? undefined
    : { markdown: `${dir}/benchmarks.md`, chartsDir: `${dir}/charts`, chartsLink: 'charts' };
}

/** `--compare`: print (and with `--section-into`, splice) the in-memory before/after section. */
function compareWith(beforeFile: string | undefined, into: string | undefined, results: BenchResults, afterFile: string): void {
  if (beforeFile === undefined) {
    if (into !== undefined) process.stderr.write('--section-into needs --compare BEFORE.json; nothing written\n');
    return;
  }
  const before = JSON.parse(readFileSync(beforeFile, 'utf8')) as BenchResults;
  const section = renderBeforeAfter(before, results, relative(REPO_ROOT, beforeFile), relative(REPO_ROOT, afterFile));
  process.stdout.write(`${section}\n`);
  if (into !== undefined) {
    spliceSection(into, section);
    process.stderr.write(`before/after section written into ${into}\n`);
  }
}

async function main(): Promise<void> {
  let opts;
  try {
    opts = parseOptions(process.argv.slice(2), REPO_ROOT);
  } catch (error) {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 2;
    return;
  }
  if (opts.reportFrom !== undefined) {
    let results = JSON.parse(readFileSync(opts.reportFrom, 'utf8')) as BenchResults;
    for (const file of opts.merge)
      results = mergeResults(results, JSON.parse(readFileSync(file, 'utf8')) as BenchResults);
    if (opts.sectionInto === undefined || opts.reportDir !== undefined) {
      const written = writeReport(results, REPO_ROOT, reportPaths(opts.reportDir));
      process.stderr.write(`report: ${written.join(', ')}\n`);
    }
    compareWith(opts.compare, opts.sectionInto, results, opts.reportFrom);
    return;
  }
  const progress = new Progress();
  const started = Date.now();
  progress.note(
    `Omnibus benchmarks${opts.quick ? ' (--quick smoke run: numbers are not meaningful)' : ''}: ${opts.transports.join(', ')}; ${opts.reps} repetition(s)`,
  );
  let results = await runBench(opts, progress);
  for (const file of opts.merge)
    results = mergeResults(results, JSON.parse(readFileSync(file, 'utf8')) as BenchResults);
  mkdirSync(opts.outDir, { recursive: true });
  const stamp = results.meta.startedAt.replace(/[:.]/g, '-');
  const file = `${opts.outDir}/${opts.quick ? 'quick' : 'full'}-${stamp}.json`;
  writeFileSync(file, `${JSON.stringify(results, null, 1)}\n`);
  writeFileSync(
    `${opts.outDir}/latest${opts.quick ? '-quick' : ''}.json`,
    `${JSON.stringify(results, null, 1)}\n`,
  );
  progress.note(`results: ${file}`);
  if (opts.report) {
    // A quick run renders into the results folder, so CI never overwrites docs/benchmarks.md.
    const written = opts.quick
      ? writeReport(results, REPO_ROOT, {
          markdown: `${opts.outDir}/quick-report.md`,
          chartsDir: `${opts.outDir}/quick-charts`,
          chartsLink: 'quick-charts',
        })
      : opts.sectionInto !== undefined && opts.reportDir === undefined
        ? []
        : writeReport(results, REPO_ROOT, reportPaths(opts.reportDir));
    if (written.length > 0) progress.note(`report: ${written.join(', ')}`);
  }
  compareWith(opts.compare, opts.sectionInto, results, file);
  // Framework cost per message and the CI guard (bench/baseline.json): fails only on a gross regression.
  const baselineFile = `${REPO_ROOT}bench/baseline.json`;
  const baseline = existsSync(baselineFile) ? (JSON.parse(readFileSync(baselineFile, 'utf8')) as CostBaseline) : undefined;
  const guard = checkAgainstBaseline(frameworkCosts(results), opts.quick ? baseline : undefined);
  for (const line of guard.lines) progress.note(line);
  if (!guard.ok) process.exitCode = 1;
  const failed = results.measurements.filter((m) => m.error !== undefined);
  progress.note(
    `done in ${formatDuration(Date.now() - started)}; ${String(results.measurements.length)} cells, ${String(failed.length)} failed`,
  );
  for (const f of failed)
    progress.note(
      `  ✖ ${f.transport} ${f.workload} ${f.variant} ${f.subject} rep ${String(f.rep + 1)}: ${f.error ?? ''}`,
    );
  // CI smoke: a failed cell fails the run (nothing about timing is asserted).
  if (failed.length > 0) process.exitCode = 1;
  // Client libraries may keep sockets or timers alive; the results are written.
  setTimeout(() => process.exit(), 500).unref();
}

await main();
