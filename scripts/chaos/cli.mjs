#!/usr/bin/env node
// The chaos run: npm run chaos -- <rabbitmq|kafka|sqs|azure|nats> [--messages N] [--rate R] [--out DIR]
//                                  [--no-broker-faults]  (consumer SIGKILLs only: no lock needed)
//
// A ledger run against one real broker: this process publishes N events (1 % poison, which
// always fail and must be dead-lettered after MAX_ATTEMPTS; 1 % malformed, undecodable bytes the
// router must dead-letter) at R per second through an EventBus, while two consumer processes
// (consumer.mjs, one group) handle them. Faults on a schedule: consumer SIGKILLs (the killed one is
// respawned), two broker restarts, a broker-side connection drop where the broker has one. Then it
// waits for the ledger to settle and prints: lost, duplicates, the dead-letter set, publish errors
// and, per fault, the time until consumption resumed. It writes <out>/<broker>.json and an SVG
// timeline <out>/<broker>.svg (see docs/chaos.md).
//
// It restarts the broker: it takes that broker's lock (/tmp/omnibus-broker-<broker>.lock) itself and
// holds it for the whole run, so nobody else restarts the broker mid-run; run it without an outer
// flock of that broker (a nested flock of the same file would wait forever). It prints the command
// that deletes its own topology at the end.
import { fork } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEventBus, createEnvelope, destinationOf } from '@omnibus/core';
import { runUnderSupportedNode } from '../node-runtime.mjs';
import {
  chaosEvent,
  cleanPrefix,
  dropConnectionsFor,
  MAX_ATTEMPTS,
  restartFor,
  transportFor,
} from './setup.mjs';
import { analyse } from './ledger.mjs';
import { timelineSvg } from './timeline-svg.mjs';
import { acquireBrokerLock, brokerLockFile } from './broker-lock.mjs';

runUnderSupportedNode();

const root = fileURLToPath(new URL('../../', import.meta.url));
const args = process.argv.slice(2);
const broker = args[0];
const flag = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
if (!['rabbitmq', 'kafka', 'sqs', 'azure', 'nats'].includes(broker)) {
  console.error(
    'usage: npm run chaos -- <rabbitmq|kafka|sqs|azure|nats> [--messages 3000] [--rate 40] [--out docs/chaos] [--fault-gap 30] [--outage 0] [--no-broker-faults]',
  );
  process.exit(2);
}
const total = Number(flag('messages', '3000'));
const rate = Number(flag('rate', '40'));
/** Least time between the end of one fault and the start of the next (and after the last one). */
const gapMs = Number(flag('fault-gap', '30')) * 1000;
/** A broker restart keeps the broker stopped this long (a slow restart, made repeatable). */
const outageMs = Number(flag('outage', '0')) * 1000;
const outDir = resolve(root, flag('out', 'docs/chaos'));
const runId = `${Date.now().toString(36)}${randomBytes(2).toString('hex')}`;
const log = (text) =>
  process.stdout.write(`[chaos ${broker} +${((Date.now() - t0) / 1000).toFixed(1)} s] ${text}\n`);
const t0 = Date.now();
const brokerFaults = !args.includes('--no-broker-faults');
let releaseLock = async () => undefined;
if (brokerFaults) {
  log(`waiting for ${brokerLockFile(broker)}`);
  releaseLock = await acquireBrokerLock(broker);
  log(`holding ${brokerLockFile(broker)} for the run`);
}

// ---------------------------------------------------------------- ledger
const published = new Map(); // id -> { kind, at }
const settlements = []; // { id, outcome, attempt, at, consumer }
const publishErrors = []; // { at, code, message, ms }
const faults = []; // { kind, at, endAt, detail }
const consumerStarts = []; // { consumer, at, ms, ok }

// ---------------------------------------------------------------- consumers
const consumers = new Map(); // name -> child
// Every consumer appends each id its handler ran for, before the ack: a consumer SIGKILLed between
// its ack and the IPC report of it handled the event, which the reports alone would call lost.
const handledFile = join(tmpdir(), `omnibus-chaos-${runId}-handled.log`);
function spawnConsumer(name) {
  const child = fork(
    fileURLToPath(new URL('./consumer.mjs', import.meta.url)),
    [broker, runId, handledFile],
    {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  const startedAt = Date.now();
  child.on('message', (message) => {
    if (message.type === 'settled') settlements.push({ ...message, consumer: name });
    else if (message.type === 'ready') {
      consumerStarts.push({ consumer: name, at: startedAt, ms: message.ms, ok: true });
      log(`consumer ${name} (pid ${child.pid}) started in ${message.ms} ms`);
    } else if (message.type === 'start-failed') {
      consumerStarts.push({ consumer: name, at: startedAt, ms: message.ms, ok: false, error: message.error });
      log(`consumer ${name} failed to start after ${message.ms} ms: ${message.error}; respawning`);
      setTimeout(() => !stopping && consumers.set(name, spawnConsumer(name)), 1_000);
    }
  });
  return child;
}
let stopping = false;

// ---------------------------------------------------------------- publisher
const bus = createEventBus({ transport: transportFor(broker, runId), events: [chaosEvent()] });
const Ledgered = chaosEvent();
await bus.start();
// A second, raw transport of the same broker publishes the malformed messages (bytes the JSON codec
// rejects), as a foreign producer would.
const raw = await rawTransport();
consumers.set('A', spawnConsumer('A'));
consumers.set('B', spawnConsumer('B'));
await waitUntil(() => consumerStarts.filter((s) => s.ok).length >= 2, 180_000, 'both consumers to start');

async function rawTransport() {
  const selection = transportFor(broker, runId);
  const module = await import(`@omnibus/transport-${selection.name}`);
  const provider = Object.values(module).find(
    (v) => v && typeof v === 'object' && typeof v.create === 'function' && v.name === selection.name,
  );
  const transport = provider.create(selection.options);
  await transport.connect?.();
  return transport;
}

async function publishOne(n) {
  const kind = n % 100 === 37 ? 'poison' : n % 100 === 73 ? 'malformed' : 'ok';
  const firstTry = Date.now(); // the application's view: when it began to publish event n
  for (;;) {
    const started = Date.now();
    try {
      if (kind === 'malformed') {
        const envelope = createEnvelope({
          type: Ledgered.name,
          payload: new TextEncoder().encode(`{not json ${n}`),
          contentType: 'application/json',
        });
        await raw.publish(destinationOf(Ledgered), [{ envelope }]);
        published.set(envelope.id, { kind, at: Date.now(), startedAt: firstTry });
      } else {
        const id = randomUUID();
        published.set(id, { kind, at: null, startedAt: firstTry, pending: true });
        await bus.publish(Ledgered, { n, poison: kind === 'poison' }, { id });
        published.set(id, { kind, at: Date.now(), startedAt: firstTry });
      }
      return;
    } catch (error) {
      for (const [id, entry] of published) if (entry.pending) published.delete(id); // unconfirmed: may or may not arrive
      publishErrors.push({
        at: started,
        ms: Date.now() - started,
        code: error?.code,
        retriable: error?.retriable,
        message: String(error?.message ?? error).slice(0, 200),
      });
      await sleep(500); // the application's retry of a rejected publish
    }
  }
}

// ---------------------------------------------------------------- fault schedule
const drop = dropConnectionsFor(broker);
const span = (total / rate) * 1000;
const schedule = [
  { at: 0.12, kind: 'sigkill', target: 'A' },
  { at: 0.28, kind: 'restart' },
  { at: 0.45, kind: 'sigkill', target: 'B' },
  ...(drop ? [{ at: 0.58, kind: 'drop' }] : []),
  { at: 0.7, kind: 'restart' },
  { at: 0.85, kind: 'sigkill', target: 'A' },
]
  .filter((f) => f.kind === 'sigkill' || brokerFaults)
  .map((f) => ({ ...f, at: Math.round(f.at * span) }));

async function inject(fault) {
  const at = Date.now();
  const record = { kind: fault.kind, at, detail: fault.target ?? '' };
  faults.push(record);
  if (fault.kind === 'sigkill') {
    const child = consumers.get(fault.target);
    log(`SIGKILL consumer ${fault.target} (pid ${child.pid})`);
    child.kill('SIGKILL');
    consumers.set(fault.target, spawnConsumer(fault.target));
  } else if (fault.kind === 'restart') {
    log('broker restart');
    await restartFor(broker, outageMs)();
    record.endAt = Date.now();
    log(`broker restarted in ${record.endAt - record.at} ms`);
  } else if (fault.kind === 'drop') {
    log('drop every client connection');
    await drop();
  }
  record.endAt ??= Date.now();
}

const publishStart = Date.now();
// One fault at a time, each at least `gapMs` after the previous one ended (a slow broker restart
// pushes the later ones back), so each fault's resume is measured on its own; the publisher goes
// on past N until `gapMs` after the last fault, so every fault has events after it.
let faultChain = Promise.resolve();
let lastFaultEnd = 0;
let faultsDone = false;
const faultRuns = schedule.map(
  (fault) =>
    (faultChain = faultChain
      .then(() => sleep(Math.max(publishStart + fault.at, lastFaultEnd + gapMs) - Date.now()))
      .then(() => inject(fault))
      .catch((error) => log(`fault ${fault.kind} failed: ${error.message}`))
      .finally(() => {
        lastFaultEnd = Date.now();
      })),
);
void Promise.all(faultRuns).then(() => {
  faultsDone = true;
});
for (let n = 0; n < total || !faultsDone || Date.now() < lastFaultEnd + gapMs; n++) {
  const due = publishStart + (n * 1000) / rate;
  if (due > Date.now()) await sleep(due - Date.now());
  await publishOne(n);
}
log(`published ${published.size} (confirmed), ${publishErrors.length} publish error(s)`);
await Promise.all(faultRuns);

// ---------------------------------------------------------------- settle and report
const expectedSettled = () => {
  const acked = new Set(settlements.filter((s) => s.outcome === 'acked').map((s) => s.id));
  const dead = new Set(settlements.filter((s) => s.outcome === 'dead-lettered').map((s) => s.id));
  let missing = 0;
  for (const [id, entry] of published)
    if (!(entry.kind === 'ok' ? acked.has(id) : dead.has(id))) missing += 1;
  return missing;
};
// At most 3 min, and at most 60 s without progress (twice the longest resume bound: a message
// still missing then is not coming back; one a consumer settled without reporting it — SIGKILLed
// right after — is found in the handled file or the broker's dead-letter destination below).
const settleDeadline = Date.now() + 180_000;
let lastMissing = -1;
let lastProgress = Date.now();
while (Date.now() < settleDeadline && Date.now() - lastProgress < 60_000) {
  const missing = expectedSettled();
  if (missing === 0) break;
  if (missing !== lastMissing) {
    log(`waiting for ${missing} message(s) to settle`);
    lastProgress = Date.now();
  }
  lastMissing = missing;
  await sleep(1_000);
}
await sleep(3_000); // late duplicates
stopping = true;
for (const child of consumers.values()) child.send?.({ type: 'stop' });
await Promise.all(
  [...consumers.values()].map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.on('exit', r)))),
);
// Where the broker's dead-letter destination can be listed, it is the authoritative dead-letter set.
let brokerDeadLetters;
let deadLetterReasons = {};
let deadLetterRecords = [];
if (raw.deadLetters !== undefined) {
  const records = await raw.deadLetters
    .list({ destination: destinationOf(Ledgered), group: 'chaos' })
    .catch((error) => {
      log(`listing the dead-letter destination failed: ${error.message}`);
      return undefined;
    });
  brokerDeadLetters = records?.map((record) => record.envelope.id);
  deadLetterReasons = Object.fromEntries(
    (records ?? []).map((r) => [r.envelope.id, `${r.info.code} attempts ${r.info.attempts}`]),
  );
  // Every listed entry as the broker holds it: whose payload (n) carries which reason (the handler's
  // message names the poison message's own n), for diagnosing entries nobody dead-lettered.
  deadLetterRecords = (records ?? []).map((r) => {
    let n;
    try {
      n = JSON.parse(new TextDecoder().decode(r.envelope.payload)).n;
    } catch {
      n = 'undecodable';
    }
    return {
      id: r.envelope.id,
      n,
      kind: published.get(r.envelope.id)?.kind ?? 'unknown',
      code: r.info.code,
      attempts: r.info.attempts,
      reason: String(r.info.message ?? '').slice(0, 80),
      at: r.info.at instanceof Date ? r.info.at.getTime() - publishStart : null,
    };
  });
}
await raw.close();
await bus.stop();
await releaseLock();

const handledLines = existsSync(handledFile)
  ? readFileSync(handledFile, 'utf8').split('\n').filter(Boolean)
  : [];
const handled = new Set(handledLines.filter((l) => !l.startsWith('acked ')));
const ackedInFile = new Set(handledLines.filter((l) => l.startsWith('acked ')).map((l) => l.slice(6)));
rmSync(handledFile, { force: true });
const result = analyse({
  handled,
  ackedInFile,
  deadLetterReasons,
  broker,
  runId,
  total,
  rate,
  maxAttempts: MAX_ATTEMPTS,
  t0: publishStart,
  published,
  settlements,
  publishErrors,
  faults,
  consumerStarts,
  brokerDeadLetters,
});
result.deadLetters.records = deadLetterRecords;
// The transport's declared dead-letter rule (core's `deadLetterOnce` capability): without it a
// second copy after a SIGKILL mid-settlement is allowed (counted); with it, any is a violation.
result.deadLetters.declaredOnce = raw.capabilities?.deadLetterOnce === true;
mkdirSync(outDir, { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
writeFileSync(join(outDir, `${broker}-${stamp}.json`), `${JSON.stringify(result, null, 2)}\n`);
writeFileSync(join(outDir, `${broker}.svg`), timelineSvg(result));
printSummary(result);
log(`report: ${join(outDir, `${broker}-${stamp}.json`)}, chart: ${join(outDir, `${broker}.svg`)}`);
log(`clean up with: npm run brokers -- clean ${broker} ${cleanPrefix(broker, runId)} --yes`);
const violatesDeadLetterRule =
  result.deadLetters.declaredOnce && (result.deadLetters.twice > 0 || result.deadLetters.pastMaxAttempts > 0);
process.exit(result.lost.length === 0 && !violatesDeadLetterRule ? 0 : 1);

function printSummary(r) {
  const line = (t) => process.stdout.write(`${t}\n`);
  line(
    `\n== chaos run ${broker} (${r.runId}): ${r.published} confirmed publishes in ${(r.durationMs / 1000).toFixed(0)} s`,
  );
  line(`lost: ${r.lost.length}${r.lost.length ? ` (${r.lost.slice(0, 5).join(', ')}…)` : ''}`);
  line(
    `acked, report cut off by a SIGKILL: ${r.handledUnreported.length}; handled, never acked, never redelivered (counted lost): ${r.handledNotAcked.length}`,
  );
  line(`duplicates (handled more than once): ${r.duplicates}`);
  line(
    `dead-letter set: ${r.deadLetters.count} messages (${r.deadLetters.poison} poison + ${r.deadLetters.malformed} malformed expected ${r.deadLetters.expected}); dead-lettered twice: ${r.deadLetters.twice}; past maxAttempts: ${r.deadLetters.pastMaxAttempts}; wrongly dead-lettered: ${r.deadLetters.unexpected} (${r.deadLetters.declaredOnce ? 'the transport declares deadLetterOnce: any second copy is a violation' : 'at-least-once dead-lettering: a second copy after a SIGKILL mid-settlement is allowed and counted'})`,
  );
  line(
    `publish errors: ${r.publishErrors.length}${r.publishErrors.length ? ` (${[...new Set(r.publishErrors.map((e) => `${e.code} retriable=${e.retriable}`))].join('; ')}; longest ${Math.max(...r.publishErrors.map((e) => e.ms))} ms)` : ''}`,
  );
  line('fault                 at (s)   took (s)   resumed after (s)   after ready (s)');
  const s1 = (ms) => (ms === null ? 'not resumed' : (ms / 1000).toFixed(1));
  for (const f of r.faults)
    line(
      `${`${f.kind}${f.detail ? ` ${f.detail}` : ''}`.padEnd(20)}  ${(f.atMs / 1000).toFixed(1).padStart(6)}   ${(f.durationMs / 1000).toFixed(1).padStart(8)}   ${s1(f.resumeMs).padStart(17)}   ${s1(f.resumeAfterReadyMs).padStart(15)}${f.overlapped ? '   (overlapped by the next fault)' : ''}`,
    );
  line(
    `consumer starts: ${r.consumerStarts.map((s) => `${s.consumer} ${s.ok ? `${(s.ms / 1000).toFixed(1)} s` : 'FAILED'}`).join(', ')}`,
  );
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, Math.max(0, ms)));
}

async function waitUntil(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`chaos: timed out waiting for ${what}`);
    await sleep(100);
  }
}
