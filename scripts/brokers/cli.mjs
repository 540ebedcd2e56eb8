#!/usr/bin/env node
// Broker manager CLI (npm run brokers -- <command> [broker]).
//   up|down|status [broker ...]   brokers: rabbitmq kafka sqs sns azure postgres | all (default; all = azure
//                                 only when its emulator is built); several names run in parallel
//   restart <broker ...|all>      graceful stop + start with the same data, wait until ready
//   pid <broker>                  print the server pid (exit 1 when not running)
//   logs [broker ...] [-n N] [-f]
//   smoke [broker ...] [--restart]  round-trip one message through each broker's raw client;
//                                   --restart: publish, restart the broker, then consume
//   clean <broker> [prefix] [--yes] list leftover topology (queues, exchanges, topics, groups,
//                                   entities) whose names start with prefix; --yes deletes it
// `status` probes each running broker's protocol within a bound (OMNIBUS_BROKERS_PROBE_MS, 3 s) and
// exits with 3 when one accepts connections but does not answer (state "unhealthy").
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { BrokerError, brokers, down, expand, logPath, pid, restart, status, up } from './index.mjs';
import { tailFile } from './process-utils.mjs';

const USAGE = `usage: node scripts/brokers/cli.mjs <command> [broker ...] [options]
commands: up | down | status | restart | pid | logs [-n N] [-f] | smoke [--restart]
          clean <broker> [prefix] [--yes]   (dry run without --yes)
brokers:  ${Object.keys(brokers).join(' | ')} | all (default)`;

const usage = (message) => Object.assign(new Error(`${message}\n${USAGE}`), { usage: true });
const say = (text) => process.stdout.write(`${text}\n`);
const note = (text) => process.stderr.write(`${text}\n`);
const secs = (ms) => `${(ms / 1000).toFixed(1)} s`;

function parse(argv) {
  const positional = [];
  const flags = { n: 50, follow: false, restart: false, yes: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-n' || a === '--lines') flags.n = Number(argv[++i]);
    else if (a === '-f' || a === '--follow') flags.follow = true;
    else if (a === '--restart') flags.restart = true;
    else if (a === '--yes' || a === '-y') flags.yes = true;
    else if (a === '-h' || a === '--help') flags.help = true;
    else positional.push(a);
  }
  const names = positional.slice(1);
  // One name stays a string (single result); several stay a list; none = 'all'.
  const name = names.length === 0 ? undefined : names.length === 1 ? names[0] : names;
  return { command: positional[0], name, flags };
}

function fail(error) {
  const errors = error instanceof AggregateError ? error.errors : [error];
  for (const e of errors) {
    note(`\n✖ ${e instanceof BrokerError ? e.report() : e?.usage ? e.message : (e?.stack ?? e)}`);
  }
  for (const r of error.results ?? []) note(`(${r.name} is up: pid ${r.pid})`);
  process.exitCode = 1;
}

function printStatus(rows) {
  const header = ['broker', 'version', 'ports', 'pid', 'state'];
  const lines = rows.map((r) => [
    r.name,
    r.version ?? '?',
    r.ports.join(','),
    r.pid ? String(r.pid) : '-',
    r.state + (r.note ? ` (${r.note})` : ''),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  for (const l of [header, ...lines])
    say(
      l
        .map((c, i) => c.padEnd(widths[i]))
        .join('  ')
        .trimEnd(),
    );
}

const list = (value) => (Array.isArray(value) ? value : [value]);

async function main() {
  const { command, name, flags } = parse(process.argv.slice(2));
  if (!command || flags.help) {
    say(USAGE);
    if (!command) process.exitCode = 2;
    return;
  }
  const log = (text) => note(text);
  switch (command) {
    case 'up': {
      const t0 = Date.now();
      note(
        `starting ${expand(name ?? 'all')
          .map((b) => b.name)
          .join(', ')} ...`,
      );
      const results = list(await up(name ?? 'all', { log }));
      for (const r of results) {
        say(
          `✔ ${r.name} ${r.version ?? ''} on ${r.ports.join(',')} pid ${r.pid} — ${r.alreadyRunning ? 'already running' : `started in ${secs(r.ms)}`}`,
        );
      }
      say(`all requested brokers up in ${secs(Date.now() - t0)}`);
      break;
    }
    case 'down': {
      const results = list(await down(name ?? 'all', { log }));
      for (const r of results)
        say(r.stopped ? `■ ${r.name} stopped (pid ${r.pid}, ${secs(r.ms)})` : `■ ${r.name} was not running`);
      break;
    }
    case 'restart': {
      if (!name) throw usage('restart needs a broker name (or all)');
      const results = list(await restart(name, { log }));
      for (const r of results)
        say(`↻ ${r.name} restarted: pid ${r.previousPid ?? '-'} -> ${r.pid} in ${secs(r.ms)}`);
      break;
    }
    case 'status': {
      const rows = list(await status(name ?? 'all'));
      printStatus(rows);
      if (rows.some((r) => r.state === 'unhealthy')) process.exitCode = 3;
      // A probe's client library (readiness checks) must not keep a finished status alive.
      process.exit();
      break;
    }
    case 'clean': {
      const [broker, prefix = ''] = list(name ?? []);
      if (!broker || broker === 'all') throw usage('clean needs one broker name (and a prefix to delete)');
      const { clean, summarize } = await import('./clean.mjs');
      const { entities, deleted, failed } = await clean(broker, { prefix, yes: flags.yes });
      const what = `${broker}${prefix ? ` entities starting with "${prefix}"` : ' entities'}`;
      if (entities.length === 0) say(`no ${what}`);
      else if (!flags.yes) {
        if (prefix)
          for (const e of entities) say(`  ${e.kind.padEnd(8)} ${e.name}${e.note ? `  (${e.note})` : ''}`);
        else for (const [key, count] of summarize(entities)) say(`  ${String(count).padStart(6)}  ${key}`);
        say(
          `${entities.length} ${what} (dry run: nothing deleted; add --yes${prefix ? '' : ' and a prefix'} to delete)`,
        );
      } else {
        for (const f of failed) note(`  ✖ ${f.kind} ${f.name}: ${f.error}`);
        say(
          `deleted ${deleted} of ${entities.length} ${what}${failed.length ? `, ${failed.length} failed` : ''}`,
        );
        if (failed.length) process.exitCode = 1;
      }
      process.exit();
      break;
    }
    case 'pid': {
      if (!name || name === 'all' || Array.isArray(name)) throw usage('pid needs one broker name');
      const p = await pid(name);
      if (p) say(String(p));
      else {
        note(`${name} is not running`);
        process.exitCode = 1;
      }
      break;
    }
    case 'logs': {
      const names = expand(name ?? 'all').map((b) => b.name);
      if (flags.follow) {
        const files = names.map(logPath).filter(existsSync);
        const tail = spawn('tail', ['-n', String(flags.n), '-F', ...files], { stdio: 'inherit' });
        await new Promise((r) => tail.on('exit', r));
        break;
      }
      for (const n of names) {
        const file = logPath(n);
        if (names.length > 1) say(`==> ${file} <==`);
        say(tailFile(file, flags.n) || '(empty)');
      }
      break;
    }
    case 'smoke': {
      const { smoke } = await import('./smoke.mjs');
      const ok = await smoke(name ?? 'all', { restart: flags.restart, log: say });
      if (!ok) process.exitCode = 1;
      break;
    }
    default:
      throw usage(`unknown command "${command}"`);
  }
}

// A client library emitting an unhandled 'error' must still end in a clear failure, not a bare stack.
process.on('uncaughtException', (error) => {
  fail(error);
  process.exit(1);
});
main().catch(fail);
