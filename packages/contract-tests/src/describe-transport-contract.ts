import { performance } from 'node:perf_hooks';
import type { TransportCapabilities } from '@omnibus/core';
import { allCaseGroups } from './cases/all-cases.js';
import { caseTitle, type ContractCase } from './contract-case.js';
import type { TransportContractOptions } from './contract-options.js';
import { CaseContext } from './support/case-context.js';
import { ConformanceRecorder, failureDifference } from './support/conformance-report.js';

/** Why a case cannot run with these options (missing fault hook, fault cases off), or undefined. */
function faultGate(contractCase: ContractCase, options: TransportContractOptions): string | undefined {
  const needed = contractCase.faults ?? [];
  if (needed.length === 0) return undefined;
  if (options.runFaultCases === false) return 'runFaultCases=false';
  const faults = options.faults;
  for (const hook of needed) {
    const present =
      hook === 'childTransportModule'
        ? faults?.childTransportModule !== undefined
        : typeof faults?.[hook] === 'function';
    if (!present) return `fault hook ${hook} not provided`;
  }
  return undefined;
}

function firstLines(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n').slice(0, 12).join('\n');
}

/**
 * Register the Omnibus transport contract suite with mocha (call it at the top level of a
 * spec file, or inside a `describe`). Every case drives the Transport SPI directly and names
 * the delivery-contract rule it checks in its title (docs/concepts/delivery-contract.md). Cases the transport's capabilities exclude, whose
 * fault hook is missing, or fault cases with `runFaultCases: false`, are registered as pending
 * with `(skipped: <reason>)` in their title: visible, never counted as passed. When
 * `options.capabilities` is omitted, capability gating happens at run time instead (the test
 * is skipped and its title amended).
 *
 * Every case ends by checking its ledger (0 lost; 0 duplicates when fault-free and declared),
 * and closes every transport it opened. After the run, a {@link ConformanceReport} is written
 * to `$OMNIBUS_CONFORMANCE_DIR` (default `<cwd>/.conformance/`). Can be called several times in
 * one mocha run (one per configuration) as long as each call has a distinct `name`.
 */
export function describeTransportContract(options: TransportContractOptions): void {
  const timeScale = options.timeScale ?? 1;
  const recorder = new ConformanceRecorder();
  const cases = new Map<Mocha.Test, ContractCase>();
  const declared = options.capabilities;
  let observed: TransportCapabilities | undefined;

  describe(`Omnibus transport contract: ${options.name}`, function () {
    before(async function () {
      this.timeout(Math.round(30_000 * timeScale));
      const probe = await options.createTransport();
      recorder.transportName = probe.name;
      observed = probe.capabilities;
      recorder.capabilities = declared ?? observed;
      await probe.close(0);
    });

    for (const group of allCaseGroups) {
      describe(`${group.letter}. ${group.title}`, function () {
        for (const contractCase of group.cases) register(contractCase);
      });
    }

    afterEach(function () {
      const test = this.currentTest;
      const contractCase = test === undefined ? undefined : cases.get(test);
      if (test === undefined || contractCase === undefined) return;
      if (recorder.stateOf(contractCase.id) === 'skipped') return;
      const state = test.state === 'passed' ? 'passed' : test.state === 'failed' ? 'failed' : 'skipped';
      const difference = state === 'failed' ? failureDifference(test.err) : undefined;
      recorder.record(contractCase.id, {
        state,
        ...(test.duration === undefined ? {} : { durationMs: test.duration }),
        ...(state === 'failed' && test.err !== undefined ? { error: firstLines(test.err) } : {}),
        ...(difference === undefined ? {} : { difference }),
      });
    });

    after(function () {
      const faultHooks = Object.entries(options.faults ?? {})
        .filter(([, value]) => value !== undefined)
        .map(([key]) => key);
      const report = recorder.build({
        suiteName: options.name,
        version: options.version ?? 'unknown',
        runFaultCases: options.runFaultCases !== false,
        faultHooks,
        timeScale,
      });
      ConformanceRecorder.write(report);
    });
  });

  function register(contractCase: ContractCase): void {
    const title = caseTitle(contractCase);
    recorder.register(contractCase.id, contractCase.rules, title);
    const limit =
      process.env['OMNIBUS_CONTRACT_IGNORE_LIMITS'] === '1' ? undefined : options.limits?.[contractCase.id];
    const staticReason =
      (limit === undefined ? undefined : `declared limit: ${limit}`) ??
      faultGate(contractCase, options) ??
      (declared === undefined ? undefined : contractCase.requires?.(declared, options));
    if (staticReason !== undefined) {
      it.skip(`${title} (skipped: ${staticReason})`, () => undefined);
      recorder.record(contractCase.id, { state: 'skipped', skipReason: staticReason });
      return;
    }
    const test = it(title, async function () {
      const baseTimeoutMs = contractCase.timeoutFor?.(options) ?? contractCase.timeoutMs ?? 15_000;
      this.timeout(Math.round(baseTimeoutMs * timeScale) + 12_000);
      const capabilities = declared ?? observed;
      if (capabilities === undefined)
        throw new Error('transport capabilities unknown (the probe in before() failed)');
      const runtimeReason = contractCase.requires?.(capabilities, options);
      if (runtimeReason !== undefined) {
        if (this.test !== undefined) this.test.title = `${title} (skipped: ${runtimeReason})`;
        recorder.record(contractCase.id, { state: 'skipped', skipReason: runtimeReason });
        this.skip();
      }
      await runCase(contractCase, new CaseContext(contractCase.id, options, capabilities), recorder);
    });
    cases.set(test, contractCase);
  }
}

async function runCase(
  contractCase: ContractCase,
  ctx: CaseContext,
  recorder: ConformanceRecorder,
): Promise<void> {
  const started = performance.now();
  let failure: unknown;
  try {
    await contractCase.run(ctx);
    if (ctx.handlerErrors.length > 0) {
      const [first] = ctx.handlerErrors;
      throw new Error(
        `${String(ctx.handlerErrors.length)} error(s) thrown inside a handler; first: ${firstLines(first)}`,
        { cause: first },
      );
    }
    if (!ctx.ledger.isSettled()) {
      await ctx.waitForLedger('the ledger to settle after the case', 2_000).catch(() => undefined);
    }
    const problems = ctx.ledger.problems({
      faultsInjected: ctx.faultsInjected,
      noDuplicatesWithoutFaults: ctx.capabilities.noDuplicatesWithoutFaults,
    });
    if (problems.length > 0) throw new Error(`ledger check failed:\n  ${problems.join('\n  ')}`);
  } catch (error) {
    failure = error;
  }
  const closeProblems = await ctx.dispose();
  const summary = ctx.ledger.summary();
  if (summary.duplicateCount > 0)
    ctx.notes.push(
      `${String(summary.duplicateCount)} duplicate(s): ${summary.duplicates.slice(0, 5).join(', ')}`,
    );
  recorder.record(contractCase.id, {
    state: 'not-run',
    durationMs: Math.round(performance.now() - started),
    ledger: summary,
    ...(ctx.notes.length > 0 ? { notes: [...ctx.notes] } : {}),
  });
  if (failure !== undefined)
    throw failure instanceof Error ? failure : new Error('non-Error thrown by the case', { cause: failure });
  if (closeProblems.length > 0)
    throw new Error(`[rule 10] closing the case's transports failed: ${closeProblems.join('; ')}`);
}
