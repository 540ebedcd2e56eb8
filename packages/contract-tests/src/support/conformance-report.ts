import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { inspect } from 'node:util';
import type { TransportCapabilities } from '@omnibus/core';
import type { LedgerSummary } from './ledger.js';

/** Result of one case in a {@link ConformanceReport}. */
export interface ConformanceCaseResult {
  readonly id: string;
  readonly rules: readonly number[];
  readonly title: string;
  /** `not-run`: registered but filtered out (e.g. by `--grep`). */
  readonly state: 'passed' | 'failed' | 'skipped' | 'not-run';
  /** Why it was skipped (capability, missing fault hook, runFaultCases=false). */
  readonly skipReason?: string;
  /** First line(s) of the failure. */
  readonly error?: string;
  /**
   * The whole expected and actual values of a failed assertion (chai shortens them in its
   * message), rendered with `util.inspect` at full depth; absent when the error carries none.
   */
  readonly difference?: FailureDifference;
  readonly durationMs?: number;
  readonly ledger?: LedgerSummary;
  readonly notes?: readonly string[];
}

/** Expected and actual values of a failed assertion, in full. */
export interface FailureDifference {
  readonly expected: string;
  readonly actual: string;
}

/** Render a value in full: every level, element and character. */
function full(value: unknown): string {
  return inspect(value, {
    depth: null,
    maxArrayLength: null,
    maxStringLength: null,
    breakLength: 120,
    sorted: true,
  });
}

/**
 * The full expected/actual difference of an assertion error (chai's `AssertionError`, Node's
 * `assert` errors: anything with `expected` and `actual` properties and no `showDiff: false`),
 * else that of its `cause`, else undefined.
 */
export function failureDifference(error: unknown): FailureDifference | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const candidate = error as { expected?: unknown; actual?: unknown; showDiff?: unknown; cause?: unknown };
  if (!('expected' in candidate) || !('actual' in candidate) || candidate.showDiff === false)
    // An assertion inside a handler reaches the case wrapped (its `cause`).
    return candidate.cause === undefined ? undefined : failureDifference(candidate.cause);
  return { expected: full(candidate.expected), actual: full(candidate.actual) };
}

/** The machine-readable result of one run of the suite against one transport configuration. */
export interface ConformanceReport {
  readonly schemaVersion: 1;
  /** `options.name`, e.g. `rabbitmq (quorum queues)`. */
  readonly suiteName: string;
  /** `transport.name` as reported by the transport, e.g. `rabbitmq`. */
  readonly transport: string;
  readonly version: string;
  readonly capabilities: TransportCapabilities | null;
  readonly generatedAt: string;
  readonly node: string;
  readonly runFaultCases: boolean;
  readonly faultHooks: readonly string[];
  readonly timeScale: number;
  readonly summary: {
    readonly passed: number;
    readonly failed: number;
    readonly skipped: number;
    readonly notRun: number;
  };
  readonly cases: readonly ConformanceCaseResult[];
}

/** Directory reports are written to: `$OMNIBUS_CONFORMANCE_DIR` or `<cwd>/.conformance`. */
export function conformanceDir(): string {
  const fromEnv = process.env['OMNIBUS_CONFORMANCE_DIR'];
  return resolve(fromEnv !== undefined && fromEnv !== '' ? fromEnv : join(process.cwd(), '.conformance'));
}

/** File name for a suite name: lowercase, non-alphanumerics collapsed to `-`. */
export function reportFileName(suiteName: string): string {
  const slug = suiteName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return `${slug === '' ? 'transport' : slug}.json`;
}

/**
 * Collects case results during a run and writes the {@link ConformanceReport} once at the end.
 * Writing is synchronous and best-effort: a failure to write is reported on stderr, never
 * thrown (it must not turn a passing run red).
 */
export class ConformanceRecorder {
  readonly #results = new Map<string, ConformanceCaseResult>();
  readonly #order: string[] = [];
  transportName = '';
  capabilities: TransportCapabilities | null = null;

  /** Register a case (state `not-run` until it reports). */
  register(id: string, rules: readonly number[], title: string): void {
    if (!this.#results.has(id)) this.#order.push(id);
    this.#results.set(id, { id, rules, title, state: 'not-run' });
  }

  /** Record a case's outcome. */
  record(id: string, result: Omit<ConformanceCaseResult, 'id' | 'rules' | 'title'>): void {
    const registered = this.#results.get(id);
    if (registered === undefined) return;
    this.#results.set(id, { ...registered, ...result });
  }

  /** The current state of a case. */
  stateOf(id: string): ConformanceCaseResult['state'] | undefined {
    return this.#results.get(id)?.state;
  }

  /** Build the report object. */
  build(meta: {
    readonly suiteName: string;
    readonly version: string;
    readonly runFaultCases: boolean;
    readonly faultHooks: readonly string[];
    readonly timeScale: number;
  }): ConformanceReport {
    const cases = this.#order.map((id) => this.#results.get(id) as ConformanceCaseResult);
    const count = (state: ConformanceCaseResult['state']): number =>
      cases.filter((c) => c.state === state).length;
    return {
      schemaVersion: 1,
      suiteName: meta.suiteName,
      transport: this.transportName,
      version: meta.version,
      capabilities: this.capabilities,
      generatedAt: new Date().toISOString(),
      node: process.version,
      runFaultCases: meta.runFaultCases,
      faultHooks: meta.faultHooks,
      timeScale: meta.timeScale,
      summary: {
        passed: count('passed'),
        failed: count('failed'),
        skipped: count('skipped'),
        notRun: count('not-run'),
      },
      cases,
    };
  }

  /** Write `report` to {@link conformanceDir}; returns the path, or undefined when writing failed. */
  static write(report: ConformanceReport): string | undefined {
    try {
      const dir = conformanceDir();
      mkdirSync(dir, { recursive: true });
      const path = join(dir, reportFileName(report.suiteName));
      writeFileSync(path, `${JSON.stringify(report, null, 2)}\n`);
      return path;
    } catch (error) {
      process.stderr.write(
        `omnibus contract suite: could not write the conformance report: ${String(error)}\n`,
      );
      return undefined;
    }
  }
}
