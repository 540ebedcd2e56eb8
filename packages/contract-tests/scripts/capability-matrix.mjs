#!/usr/bin/env node
// Turns the conformance reports written by describeTransportContract (one JSON file per
// transport configuration) into docs/capability-matrix.md. A capability is only shown as
// supported when every case that proves it passed in that configuration's latest run, so the
// docs can never claim more than the tests showed.
//
// Usage: node packages/contract-tests/scripts/capability-matrix.mjs [--in <dir>] [--out <file>] [--check]
//   --in     reports directory (default $OMNIBUS_CONFORMANCE_DIR or <cwd>/.conformance)
//   --out    markdown file (default <cwd>/docs/capability-matrix.md)
//   --check  exit 1 when a report has failed cases (after writing)
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { DELIVERY_RULES } from '../dist/src/delivery-rules.js';

const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const inDir = resolve(
  option('--in') ?? process.env.OMNIBUS_CONFORMANCE_DIR ?? join(process.cwd(), '.conformance'),
);
const outFile = resolve(option('--out') ?? join(process.cwd(), 'docs', 'capability-matrix.md'));
const check = args.includes('--check');

/** Which cases prove which capability (a declared capability with a failed/missing case is "unproven"). */
const PROOF = {
  ordering: ['F1', 'F2', 'F3'],
  delayedDelivery: ['N1', 'N2', 'N3'],
  maxRetryDelayMs: ['D1', 'D2', 'D3'],
  maxPayloadBytes: ['M1', 'M2'],
  competingConsumers: ['G2', 'G4', 'C6', 'K5'],
  fanOut: ['G1', 'E4'],
  survivesBrokerRestart: ['J1'],
  noDuplicatesWithoutFaults: ['O1'],
  publishDeduplication: ['O2'],
  atomicBatchPublish: ['P2'],
  deadLetterStore: ['Q1', 'Q2', 'Q3', 'Q4'],
  backlog: ['Y1', 'Y2'],
  publishWithoutSubscribers: ['U1', 'U2'],
  headerFilters: ['W2'],
};

/** The delivery contract's rules (docs/concepts/delivery-contract.md), for the per-rule summary. */
const RULES = Object.fromEntries(DELIVERY_RULES.map((r) => [r.number, r.name]));

function readReports(dir) {
  let files = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  } catch {
    return { reports: [], selfTest: undefined };
  }
  const reports = [];
  let selfTest;
  for (const file of files.sort()) {
    let data;
    try {
      data = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    } catch (error) {
      process.stderr.write(`skipping ${file}: ${error.message}\n`);
      continue;
    }
    if (data?.kind === 'omnibus-contract-self-test') selfTest = data;
    else if (data?.schemaVersion === 1 && Array.isArray(data.cases)) reports.push(data);
  }
  reports.sort((a, b) => a.suiteName.localeCompare(b.suiteName));
  return { reports, selfTest };
}

const stateOf = (report, id) => report.cases.find((c) => c.id === id);
const escape = (text) => String(text).replace(/\|/g, '\\|').replace(/\n/g, ' ');
const mark = { passed: '✅', failed: '❌', skipped: '⏭️', 'not-run': '·' };

function formatMs(ms) {
  if (ms >= 86_400_000) return `${(ms / 86_400_000).toFixed(1)} d`;
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)} min`;
  if (ms >= 1_000) return `${(ms / 1_000).toFixed(1)} s`;
  return `${ms} ms`;
}

function formatBytes(bytes) {
  if (bytes >= 1_048_576) return `${(bytes / 1_048_576).toFixed(bytes % 1_048_576 === 0 ? 0 : 2)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(bytes % 1024 === 0 ? 0 : 2)} KiB`;
  return `${bytes} B`;
}

function declared(capability, caps) {
  const value = caps?.[capability];
  switch (capability) {
    case 'ordering':
      return { claimed: value === 'per-key', text: value ?? '?' };
    case 'delayedDelivery':
      return value === false || value === undefined
        ? { claimed: false, text: 'no' }
        : {
            claimed: true,
            text: `up to ${formatMs(value.maxDelayMs)}${value.emulated ? ' (emulated)' : ''}`,
          };
    case 'maxRetryDelayMs':
      return { claimed: true, text: value === undefined ? '?' : formatMs(value) };
    case 'maxPayloadBytes':
      return { claimed: true, text: value === undefined ? '?' : formatBytes(value) };
    case 'backlog':
      return value === undefined
        ? { claimed: false, text: 'no' }
        : { claimed: true, text: `${value.kind}${value.approximate ? ' (approximate)' : ''}` };
    case 'publishWithoutSubscribers':
      // `retained` is a claim too (U2 proves a group provisioned elsewhere is seen); absent = unchecked.
      return { claimed: value === 'rejects' || value === 'retained', text: value ?? 'unchecked' };
    case 'headerFilters':
      // Both values are claims W2 proves: the same messages reach the handler; absent = router.
      return { claimed: true, text: value ?? 'router' };
    default:
      return { claimed: value === true, text: value === true ? 'yes' : 'no' };
  }
}

/** The cell for one capability of one report: the claim, qualified by what the cases showed. */
function capabilityCell(report, capability) {
  const { claimed, text } = declared(capability, report.capabilities);
  if (!claimed) return text;
  const states = PROOF[capability].map((id) => [id, stateOf(report, id)?.state ?? 'not-run']);
  const failed = states.filter(([, s]) => s === 'failed').map(([id]) => id);
  const missing = states.filter(([, s]) => s === 'not-run').map(([id]) => id);
  const passed = states.filter(([, s]) => s === 'passed').map(([id]) => id);
  if (failed.length > 0) return `❌ ${text} — claimed but ${failed.join(', ')} failed`;
  if (passed.length === 0)
    return `⚠️ ${text} — unproven (${missing.concat(states.filter(([, s]) => s === 'skipped').map(([id]) => id)).join(', ')} not run)`;
  if (missing.length > 0) return `✅ ${text} (not run: ${missing.join(', ')})`;
  return `✅ ${text}`;
}

function render({ reports, selfTest }) {
  const lines = [];
  lines.push('# Transport capability matrix');
  lines.push('');
  lines.push(
    '<!-- Generated by packages/contract-tests/scripts/capability-matrix.mjs from the conformance reports. Do not edit by hand. -->',
  );
  lines.push('');
  lines.push(
    'Generated from the conformance reports the shared contract suite (`@omnibus/contract-tests`) writes on every run. ' +
      'A capability is marked ✅ only when the cases that prove it passed in that configuration’s latest run; ' +
      'a claim whose proving case failed is marked ❌, one never exercised ⚠️. Cases a configuration does not declare are skipped visibly, never counted as passed.',
  );
  lines.push('');
  if (reports.length === 0) {
    lines.push(
      `_No conformance reports found in \`${relative(process.cwd(), inDir) || '.'}\`. Run a transport’s contract tests first._`,
    );
    return lines.join('\n') + '\n';
  }
  const header = (first) => `| ${first} | ${reports.map((r) => escape(r.suiteName)).join(' | ')} |`;
  const rule = `|---|${reports.map(() => '---').join('|')}|`;

  lines.push('## Runs');
  lines.push('');
  lines.push(header(''));
  lines.push(rule);
  lines.push(`| transport | ${reports.map((r) => `\`${escape(r.transport)}\``).join(' | ')} |`);
  lines.push(`| version | ${reports.map((r) => escape(r.version)).join(' | ')} |`);
  lines.push(`| run at | ${reports.map((r) => r.generatedAt.slice(0, 16).replace('T', ' ')).join(' | ')} |`);
  lines.push(
    `| passed / failed / skipped / not run | ${reports.map((r) => `${r.summary.passed} / ${r.summary.failed} / ${r.summary.skipped} / ${r.summary.notRun}`).join(' | ')} |`,
  );
  lines.push(
    `| fault cases | ${reports.map((r) => (r.runFaultCases ? (r.faultHooks.length > 0 ? r.faultHooks.join(', ') : 'on, no hooks') : 'off')).join(' | ')} |`,
  );
  lines.push('');

  lines.push('## Capabilities');
  lines.push('');
  lines.push(header('capability (proving cases)'));
  lines.push(rule);
  for (const capability of Object.keys(PROOF)) {
    lines.push(
      `| \`${capability}\` (${PROOF[capability].join(', ')}) | ${reports.map((r) => escape(capabilityCell(r, capability))).join(' | ')} |`,
    );
  }
  lines.push('');
  lines.push(header('telemetry'));
  lines.push(rule);
  lines.push(
    `| OpenTelemetry span tree and metric points (T1) | ${reports
      .map((r) => {
        const state = stateOf(r, 'T1')?.state ?? 'not-run';
        return state === 'passed'
          ? '✅ same as reference'
          : state === 'failed'
            ? '❌ differs'
            : state === 'skipped'
              ? '⏭️ no harness'
              : '· not run';
      })
      .join(' | ')} |`,
  );
  lines.push('');

  lines.push('## Delivery rules ([the contract](concepts/delivery-contract.md))');
  lines.push('');
  lines.push(header('rule'));
  lines.push(rule);
  for (const [number, name] of Object.entries(RULES)) {
    const cells = reports.map((r) => {
      const cases = r.cases.filter((c) => c.rules.includes(Number(number)));
      const count = (state) => cases.filter((c) => c.state === state).length;
      const failed = count('failed');
      const passed = count('passed');
      const skipped = count('skipped');
      if (failed > 0) return `❌ ${failed} failed, ${passed} passed`;
      if (passed === 0) return skipped > 0 ? `⏭️ all ${skipped} skipped` : '· not run';
      return `✅ ${passed} passed${skipped > 0 ? `, ${skipped} skipped` : ''}`;
    });
    lines.push(`| ${number}. ${name} | ${cells.join(' | ')} |`);
  }
  lines.push('');

  lines.push('## Cases');
  lines.push('');
  lines.push(
    '✅ passed · ❌ failed · ⏭️ skipped (reason below the table) · `·` not run in the latest report',
  );
  lines.push('');
  lines.push(header('case'));
  lines.push(rule);
  const allIds = [];
  for (const r of reports) for (const c of r.cases) if (!allIds.includes(c.id)) allIds.push(c.id);
  const footnotes = [];
  for (const id of allIds) {
    const title = reports.map((r) => stateOf(r, id)?.title).find((t) => t !== undefined) ?? id;
    const cells = reports.map((r) => {
      const c = stateOf(r, id);
      if (c === undefined) return '';
      if (c.state === 'skipped' && c.skipReason !== undefined) {
        let n = footnotes.indexOf(c.skipReason);
        if (n < 0) n = footnotes.push(c.skipReason) - 1;
        return `${mark.skipped}[${n + 1}]`;
      }
      return mark[c.state] ?? c.state;
    });
    lines.push(`| ${escape(title.replace(/ \(skipped: .*\)$/, ''))} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  footnotes.forEach((reason, i) => lines.push(`${i + 1}. skipped: ${escape(reason)}`));
  lines.push('');

  const failures = reports.flatMap((r) => r.cases.filter((c) => c.state === 'failed').map((c) => ({ r, c })));
  if (failures.length > 0) {
    lines.push('## Failures in the latest reports');
    lines.push('');
    for (const { r, c } of failures)
      lines.push(`- **${escape(r.suiteName)}** ${c.id}: ${escape((c.error ?? '').split('\n')[0])}`);
    lines.push('');
  }

  const notes = reports.flatMap((r) =>
    r.cases
      .filter((c) => (c.notes ?? []).length > 0)
      .map((c) => `- **${escape(r.suiteName)}** ${c.id}: ${escape(c.notes.join('; '))}`),
  );
  if (notes.length > 0) {
    lines.push('## Observations (duplicates under faults, timings)');
    lines.push('');
    lines.push(...notes);
    lines.push('');
  }

  if (selfTest !== undefined) {
    lines.push('## Suite self-test');
    lines.push('');
    lines.push(
      'The suite is run against deliberately broken variants of the in-memory transport; each must make it fail.',
    );
    lines.push('');
    lines.push('| mutant | defect | caught by |');
    lines.push('|---|---|---|');
    for (const m of selfTest.mutants.filter((m) => m.mutant !== 'none')) {
      lines.push(
        `| \`${escape(m.mutant)}\` | ${escape(m.defect)} | ${m.caughtBy.length > 0 ? escape(m.caughtBy.join(', ')) : '❌ **not caught**'} |`,
      );
    }
    lines.push('');
  }
  return lines.join('\n');
}

const data = readReports(inDir);
mkdirSync(dirname(outFile), { recursive: true });
writeFileSync(outFile, `${render(data).trimEnd()}\n`);
process.stdout.write(
  `wrote ${relative(process.cwd(), outFile)} from ${data.reports.length} report(s) in ${relative(process.cwd(), inDir) || '.'}\n`,
);
if (check && data.reports.some((r) => r.summary.failed > 0)) {
  process.stderr.write('some conformance reports have failed cases\n');
  process.exit(1);
}
