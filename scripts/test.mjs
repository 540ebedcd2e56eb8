#!/usr/bin/env node
// The whole test suite: build, start the brokers the integration stages need, run every stage,
// print one closing summary line. Usage: npm test [-- stage ...] (stages: see STAGES below;
// `node scripts/test.mjs --list` prints them).
// A stage whose broker cannot start fails loudly; nothing is skipped silently.
// On a machine whose node is older than 22 it runs itself under the project's Node 24 (node-runtime.mjs).
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import { runUnderSupportedNode } from './node-runtime.mjs';
import { packageTestStages, transportPackages } from './workspace-packages.mjs';

runUnderSupportedNode();

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const mocha = path.join(root, 'node_modules', 'mocha', 'bin', 'mocha.js');

/** Transports of the saga-ledger stage (each one's broker is restarted during the run). */
const sagaLedgerTransports = (process.env.OMNIBUS_SAGA_LEDGER_TRANSPORTS ?? 'rabbitmq,kafka,nats').split(',').filter(Boolean);

/** Each stage: the brokers it needs and the mocha specs (or a command) it runs. */
const STAGES = [
  {
    name: 'unit',
    brokers: [],
    mocha: ['--ignore', '**/*.int.test.js', 'packages/*/dist/test/**/*.test.js', 'tools/*/dist/test/**/*.test.js', 'scripts/brokers/test/*.test.mjs'],
  },
  { name: 'lint', brokers: [], command: [process.execPath, 'node_modules/eslint/bin/eslint.js', '.'] },
  { name: 'docs', brokers: [], command: [process.execPath, 'scripts/check-doc-samples.mjs'] },
  // API reference (TypeDoc over every package's public exports); an undocumented export fails it.
  { name: 'api-docs', brokers: [], command: [process.execPath, 'node_modules/typedoc/bin/typedoc'] },
  { name: 'demo', brokers: [], command: [process.execPath, 'examples/ecommerce/dist/src/main.js'] },
  // The demo with OpenTelemetry (SDK + in-memory exporters): prints one order's trace tree.
  { name: 'demo-trace', brokers: [], env: { OMNIBUS_DEMO_TRACE: '1' }, command: [process.execPath, 'examples/ecommerce/dist/src/main.js'] },
  { name: 'demo-nestjs', brokers: [], command: [process.execPath, 'examples/nestjs-shop/dist/src/main.js'] },
  // The fulfilment saga demo (paid orders ship, unpaid ones are compensated) on the in-memory transport.
  { name: 'demo-saga', brokers: [], command: [process.execPath, 'examples/saga-fulfilment/dist/src/main.js'] },
  // Each package's own stages (package.json "omnibus.testStages", see scripts/workspace-packages.mjs):
  // rabbitmq, kafka, sqs, azure, outbox-postgres, outbox-ledger (restarts PostgreSQL, RabbitMQ and
  // Kafka: run it under flock /tmp/omnibus-brokers.lock, like the broker stages), cli.
  ...packageTestStages(),
  // The fulfilment saga (docs/concepts/sagas.md) on in-memory and the five brokers, two competing consumers, PostgreSQL store.
  { name: 'saga', brokers: ['postgres', 'rabbitmq', 'kafka', 'sqs', 'azure', 'nats'], mocha: ['examples/saga-fulfilment/dist/test/*.int.test.js'] },
  // The idempotency harness on the demo's real handlers, billing through the PostgreSQL inbox (docs/guides/idempotency-harness.md).
  { name: 'idempotency', brokers: ['postgres'], mocha: ['examples/ecommerce/dist/test/idempotency.int.test.js'] },
  // One bus on two brokers (docs/guides/multiple-transports.md): orders on Kafka, charges on RabbitMQ;
  // a migration from RabbitMQ to Kafka with restarts in every phase (docs/guides/migrating-brokers.md).
  { name: 'multi-transport', brokers: ['kafka', 'rabbitmq'], mocha: ['examples/ecommerce/dist/test/multi-transport.int.test.js', 'examples/ecommerce/dist/test/migration.int.test.js'] },
  // The contract suite through MigrationTransport from RabbitMQ to NATS in dual-write and drain, fault cases off (each
  // broker's run them in its own stage): packages/transport-rabbitmq/test/pairs/migration-to-nats.contract.ts.
  { name: 'migration-contract', brokers: ['nats', 'rabbitmq'], mocha: ['packages/transport-rabbitmq/dist/test/pairs/migration-to-nats.contract.js'] },
  // A migration from SQS (ElasticMQ) to Azure Service Bus (the emulator), selected from configuration, with the
  // PostgreSQL claim store and one pool per consumer (docs/guides/migrating-brokers.md). Run it under the azure
  // then sqs locks when they are contended (it restarts nothing).
  { name: 'migration-sqs-azure', brokers: ['postgres', 'sqs', 'azure'], mocha: ['examples/ecommerce/dist/test/migration-sqs-azure.int.test.js'] },
  // The saga ledger (examples/saga-fulfilment/test/ledger): 240 orders through the saga with the PostgreSQL
  // store and outbox, two consumer processes each SIGKILLed once mid-step, and a broker restart; every
  // instance ends in one terminal state, no effect twice. Restarts RabbitMQ, Kafka and NATS: run it under the
  // kafka, nats, postgres and rabbitmq locks (nested alphabetically). OMNIBUS_SAGA_LEDGER_TRANSPORTS=sqs,azure runs the others.
  {
    name: 'saga-ledger',
    brokers: ['postgres', ...sagaLedgerTransports],
    env: { OMNIBUS_SAGA_LEDGER_TRANSPORTS: sagaLedgerTransports.join(',') },
    mocha: ['examples/saga-fulfilment/dist/test/ledger/*.int.test.js'],
  },
  {
    // Proves the benchmark harness runs end to end; asserts nothing about timing.
    name: 'bench-quick',
    brokers: ['rabbitmq', 'kafka', 'sqs'],
    command: [process.execPath, 'bench/dist/src/cli.js', '--quick', '--no-brokers', '--transports', 'in-memory,rabbitmq,kafka,sqs', '--out', '.bench-smoke', '--report-dir', '.bench-smoke'],
  },
  {
    // The demo with its orders written through the transactional outbox (docs/guides/outbox.md).
    name: 'demo-outbox',
    brokers: ['postgres'],
    env: { OMNIBUS_OUTBOX_DATABASE_URL: 'postgres://omnibus:omnibus@127.0.0.1:55432/omnibus' },
    command: [process.execPath, 'examples/ecommerce/dist/src/main.js'],
  },
  // Every transport package ("omnibus.transport" in its package.json) runs the demo and the docs samples.
  ...transportPackages().map((transport) => ({
    name: `demo-${transport.name}`,
    brokers: transport.brokers,
    env: { OMNIBUS_TRANSPORT: transport.name },
    command: [process.execPath, 'examples/ecommerce/dist/src/main.js'],
  })),
  // The README and guide samples that read OMNIBUS_TRANSPORT, run on each broker, output checked.
  ...transportPackages().map((transport) => ({
    name: `docs-${transport.name}`,
    brokers: transport.brokers,
    command: [process.execPath, 'scripts/check-doc-samples.mjs', '--transport', transport.name],
  })),
];

function run(command, args, { capture = false, env = {} } = {}) {
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: capture ? ['ignore', 'pipe', 'pipe'] : 'inherit',
    });
    let output = '';
    if (capture) {
      for (const stream of [child.stdout, child.stderr]) {
        stream.on('data', (chunk) => {
          output += chunk;
          (stream === child.stdout ? process.stdout : process.stderr).write(chunk);
        });
      }
    }
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? 1 : 0), output }));
  });
}

function countsFrom(output) {
  const grab = (word) => {
    const matches = [...output.matchAll(new RegExp(`^\\s*(\\d+) ${word}\\b`, 'gm'))];
    return matches.length ? Number(matches[matches.length - 1][1]) : 0;
  };
  return { passed: grab('passing'), failed: grab('failing'), skipped: grab('pending') };
}

if (process.argv[2] === '--list') {
  for (const s of STAGES) console.log(`${s.name.padEnd(16)} brokers: ${s.brokers.join(', ') || '-'}`);
  process.exit(0);
}
const wanted = process.argv.slice(2);
const stages = wanted.length ? STAGES.filter((s) => wanted.includes(s.name)) : STAGES;
if (wanted.length && stages.length !== wanted.length) {
  console.error(`Unknown stage in ${wanted.join(', ')}; known: ${STAGES.map((s) => s.name).join(', ')}`);
  process.exit(2);
}

const started = Date.now();
const fullRun = stages.length === STAGES.length;
// A full run starts from no conformance reports, so the regenerated matrix shows only this run.
if (fullRun) rmSync(path.join(root, '.conformance'), { recursive: true, force: true });
console.log('▶ build (tsc -b)');
if ((await run(process.execPath, [path.join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-b', 'tsconfig.json'])).code !== 0) {
  console.error('✖ build failed');
  process.exit(1);
}

const brokers = [...new Set(stages.flatMap((s) => s.brokers))];
if (brokers.length) {
  console.log(`▶ brokers up: ${brokers.join(', ')}`);
  const up = await run(process.execPath, ['scripts/brokers/cli.mjs', 'up', ...brokers]);
  if (up.code !== 0) {
    console.error('✖ brokers could not be started (see the message above); integration stages cannot run');
    process.exit(1);
  }
}

const totals = { passed: 0, failed: 0, skipped: 0 };
const report = [];
for (const stage of stages) {
  const t0 = Date.now();
  console.log(`\n▶ stage ${stage.name}`);
  let result;
  if (stage.command) {
    const [cmd, ...args] = stage.command;
    if (!existsSync(path.join(root, args[0]))) {
      result = { code: 1, counts: { passed: 0, failed: 1, skipped: 0 } };
      console.error(`✖ ${args[0]} is missing`);
    } else {
      const r = await run(cmd, args, { env: stage.env });
      result = { code: r.code, counts: r.code === 0 ? { passed: 1, failed: 0, skipped: 0 } : { passed: 0, failed: 1, skipped: 0 } };
    }
  } else {
    const r = await run(process.execPath, [mocha, '--timeout', '120000', '--exit', ...stage.mocha], { capture: true, env: stage.env });
    const counts = countsFrom(r.output);
    if (r.code !== 0 && counts.failed === 0) counts.failed = 1; // crashed or found no tests
    result = { code: r.code, counts };
  }
  for (const k of Object.keys(totals)) totals[k] += result.counts[k];
  report.push({ stage: stage.name, ...result.counts, seconds: Math.round((Date.now() - t0) / 1000), ok: result.code === 0 });
}

if (fullRun) {
  console.log('\n▶ capability matrix from this run (docs/capability-matrix.md)');
  await run(process.execPath, ['packages/contract-tests/scripts/capability-matrix.mjs']);
}

console.log('\n── summary ──');
for (const r of report) {
  console.log(`${r.ok ? '✔' : '✖'} ${r.stage.padEnd(10)} ${r.passed} passed, ${r.failed} failed, ${r.skipped} skipped (${r.seconds}s)`);
}
console.log(`total time ${Math.round((Date.now() - started) / 1000)}s`);
console.log(`${totals.passed} passed, ${totals.failed} failed, ${totals.skipped} skipped`);
process.exit(report.every((r) => r.ok) ? 0 : 1);
