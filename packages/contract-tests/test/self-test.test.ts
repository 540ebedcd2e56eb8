import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { conformanceDir, reportFileName, type ConformanceReport } from '../src/index.js';
import { control, mutants, type Mutant } from './mutants/mutants.js';

const RUNNER = fileURLToPath(new URL('./mutants/mutant-contract.run.js', import.meta.url));
const MOCHA = createRequire(import.meta.url).resolve('mocha/bin/mocha.js');
const PARALLEL = 2;
const MUTANT_RUN_LIMIT_MS = 90_000;

interface MutantOutcome {
  readonly mutant: string;
  readonly defect: string;
  readonly exitCode: number | null;
  readonly report: ConformanceReport | undefined;
  readonly failed: readonly string[];
  readonly passed: readonly string[];
  readonly output: string;
}

/** Run the suite, restricted to the mutant's cases, in a child mocha; read its conformance report. */
function runMutant(mutant: Mutant, dir: string): Promise<MutantOutcome> {
  const grep = `\\] (${mutant.cases.join('|')}) `;
  const reportDir = join(dir, mutant.name);
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [MOCHA, '--no-config', '--exit', '--reporter', 'dot', '--timeout', '60000', '--grep', grep, RUNNER],
      {
        env: {
          ...process.env,
          ...mutant.env,
          OMNIBUS_MUTANT: mutant.name,
          OMNIBUS_CONFORMANCE_DIR: reportDir,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    // A mutant may hang the suite (e.g. starve the event loop): that is a failure of the
    // mutant's run too, never a pass. Kill it after a hard limit.
    const killer = setTimeout(() => {
      output += `\n[self-test] killed after ${String(MUTANT_RUN_LIMIT_MS)} ms\n`;
      child.kill('SIGKILL');
    }, MUTANT_RUN_LIMIT_MS);
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('close', (exitCode) => {
      clearTimeout(killer);
      let report: ConformanceReport | undefined;
      try {
        report = JSON.parse(
          readFileSync(join(reportDir, reportFileName(`mutant ${mutant.name}`)), 'utf8'),
        ) as ConformanceReport;
      } catch {
        report = undefined;
      }
      const ids = (state: string): string[] =>
        report?.cases.filter((c) => c.state === state).map((c) => c.id) ?? [];
      const failed = report === undefined ? ['(run hung or crashed: no report)'] : ids('failed');
      resolve({
        mutant: mutant.name,
        defect: mutant.defect,
        exitCode,
        report,
        failed,
        passed: ids('passed'),
        output,
      });
    });
  });
}

async function runAll(list: readonly Mutant[], dir: string): Promise<Map<string, MutantOutcome>> {
  const results = new Map<string, MutantOutcome>();
  const queue = [...list];
  const worker = async (): Promise<void> => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift())
      results.set(next.name, await runMutant(next, dir));
  };
  await Promise.all(Array.from({ length: PARALLEL }, worker));
  return results;
}

describe('contract suite self-test: the suite fails against broken transports', function () {
  this.timeout(240_000);
  let dir = '';
  let results = new Map<string, MutantOutcome>();

  before(async function () {
    dir = mkdtempSync(join(tmpdir(), 'omnibus-mutants-'));
    results = await runAll([control, ...mutants], dir);
  });

  after(function () {
    const summary = [...results.values()].map((r) => ({
      mutant: r.mutant,
      defect: r.defect,
      caughtBy: r.failed,
      passedCases: r.passed,
    }));
    try {
      mkdirSync(conformanceDir(), { recursive: true });
      writeFileSync(
        join(conformanceDir(), 'self-test-mutants.json'),
        `${JSON.stringify({ kind: 'omnibus-contract-self-test', generatedAt: new Date().toISOString(), mutants: summary }, null, 2)}\n`,
      );
    } catch {
      // The summary is informative only.
    }
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it(`control: the unmutated wrapper passes every case the mutants are judged by (${control.cases.join(', ')})`, function () {
    const outcome = results.get(control.name);
    expect(outcome?.report, `control run produced no report:\n${outcome?.output ?? ''}`).to.not.equal(
      undefined,
    );
    expect(outcome?.failed, `control failures:\n${outcome?.output ?? ''}`).to.deep.equal([]);
    expect(outcome?.passed.length).to.equal(control.cases.length);
  });

  for (const mutant of mutants) {
    it(`catches mutant "${mutant.name}" (${mutant.defect})`, function () {
      const outcome = results.get(mutant.name);
      expect(
        outcome?.failed.length ?? 0,
        `the suite passed against mutant ${mutant.name} (cases ${mutant.cases.join(', ')}):\n${outcome?.output ?? ''}`,
      ).to.be.greaterThan(0);
      if (this.test !== undefined) this.test.title += ` — caught by ${(outcome?.failed ?? []).join(', ')}`;
    });
  }
});
