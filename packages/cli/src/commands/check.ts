import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import {
  prepareBus,
  type EventBusConfig,
  type PreparedBus,
  type Transport,
  type TransportCapabilities,
} from '@omnibus/core';
import { COMMON_OPTIONS, UsageError, parse, required } from '../args.js';
import { problemsOf } from '../app-context.js';
import { presetSelection, CAPABILITY_PRESETS } from '../capability-presets.js';
import type { CliIo } from '../cli-io.js';
import { fanOutProblems, handlerNeeds, type HandlerNeeds } from '../describe-app.js';
import { loadAppConfig } from '../load-app-config.js';
import { table } from '../table.js';

export const CHECK_USAGE = `omnibus check --against <transport[,transport…]> [--config <file>] [--lock <file> | --locked <file>] [--json]
  Without any broker: which handlers would fail to start on each transport, and why.
  Transports: ${Object.keys(CAPABILITY_PRESETS).join(', ')} (or any installed transport name).
  --lock writes a capability lockfile; --locked fails when the needs or capabilities changed.`;

/** One transport's verdict. */
interface Verdict {
  readonly transport: string;
  readonly ok: boolean;
  readonly problems: readonly string[];
  readonly capabilities?: TransportCapabilities;
}

/** The lockfile: what the handlers need and what each checked transport offers. */
interface CapabilityLock {
  readonly lockVersion: 1;
  readonly handlers: readonly HandlerNeeds[];
  readonly transports: Readonly<
    Record<string, { readonly ok: boolean; readonly capabilities?: TransportCapabilities }>
  >;
}

/** `omnibus check`: exit 0 when every transport can run every handler, 1 otherwise. */
export async function checkCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, {
    ...COMMON_OPTIONS,
    against: { type: 'string' },
    lock: { type: 'string' },
    locked: { type: 'string' },
  });
  const targets = required(values.against, 'against')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
  if (values.lock !== undefined && values.locked !== undefined)
    throw new UsageError('use either --lock or --locked');
  const { config } = await loadAppConfig(values.config, io.env, io.cwd);
  const baseline = await prepareBus({ ...config, transport: presetSelection('in-memory') });
  const needs = handlerNeeds(baseline.registrations);
  await baseline.transport.close(0);
  const verdicts: Verdict[] = [];
  for (const target of targets) verdicts.push(await verdictFor(target, config, baseline));
  const lock: CapabilityLock = {
    lockVersion: 1,
    handlers: needs,
    transports: Object.fromEntries(
      verdicts.map((v) => [
        v.transport,
        { ok: v.ok, ...(v.capabilities === undefined ? {} : { capabilities: v.capabilities }) },
      ]),
    ),
  };
  let lockDrift: string[] = [];
  if (values.locked !== undefined) lockDrift = compareLock(path.resolve(io.cwd, values.locked), lock);
  if (values.lock !== undefined)
    writeFileSync(path.resolve(io.cwd, values.lock), `${JSON.stringify(lock, null, 2)}\n`);
  const ok = verdicts.every((v) => v.ok) && lockDrift.length === 0;
  if (values.json === true) {
    io.out(JSON.stringify({ ok, verdicts, handlers: needs, lockDrift }, null, 2));
    return ok ? 0 : 1;
  }
  io.out(
    `Handler needs\n${table(
      ['handler', 'event', 'group', 'ordered', 'max retry delay'],
      needs.map((n) => [
        n.handler,
        n.event,
        n.group,
        n.ordered ? 'per-key' : '-',
        `${String(n.retryMaxDelayMs)} ms`,
      ]),
    )}\n`,
  );
  io.out(
    table(
      ['transport', 'verdict', 'why'],
      verdicts.flatMap((v) =>
        v.problems.length === 0
          ? [[v.transport, 'ok', '']]
          : v.problems.map((p, i) => [i === 0 ? v.transport : '', i === 0 ? 'FAILS' : '', p]),
      ),
    ),
  );
  if (values.lock !== undefined) io.out(`\nwrote ${values.lock}`);
  for (const line of lockDrift) io.out(`✖ lockfile drift: ${line}`);
  io.out(
    ok
      ? '\n✔ every handler can start on every transport checked'
      : '\n✖ some handlers cannot start (see above)',
  );
  return ok ? 0 : 1;
}

async function verdictFor(target: string, config: EventBusConfig, baseline: PreparedBus): Promise<Verdict> {
  let transport: Transport;
  try {
    // The transport alone first (its options), so handler problems are reported against it.
    transport = (await prepareBus({ transport: presetSelection(target) })).transport;
  } catch (error) {
    return { transport: target, ok: false, problems: problemsOf(error).map((p) => p.problem) };
  }
  const problems: string[] = [];
  try {
    await prepareBus({ ...config, transport });
  } catch (error) {
    problems.push(...problemsOf(error).map((p) => p.problem));
  } finally {
    await transport.close(0).catch(() => undefined);
  }
  problems.push(...fanOutProblems(transport.name, transport.capabilities, baseline.registrations));
  return { transport: target, ok: problems.length === 0, problems, capabilities: transport.capabilities };
}

/** Differences between the lockfile at `file` and `current`, one line each (empty: unchanged). */
function compareLock(file: string, current: CapabilityLock): string[] {
  if (!existsSync(file)) return [`${file} does not exist (create it with --lock)`];
  const previous = JSON.parse(readFileSync(file, 'utf8')) as CapabilityLock;
  const drift: string[] = [];
  const key = (n: HandlerNeeds): string => `${n.handler} ${n.event}`;
  const before = new Map(previous.handlers.map((n) => [key(n), n]));
  const now = new Map(current.handlers.map((n) => [key(n), n]));
  for (const [k, n] of now) {
    const old = before.get(k);
    if (old === undefined) drift.push(`new handler ${k} (group ${n.group})`);
    else if (!isDeepStrictEqual(old, n))
      drift.push(`needs of ${k} changed: ${JSON.stringify(old)} → ${JSON.stringify(n)}`);
  }
  for (const k of before.keys()) if (!now.has(k)) drift.push(`handler ${k} removed`);
  for (const [name, t] of Object.entries(current.transports)) {
    const old = previous.transports[name];
    if (old === undefined) drift.push(`transport ${name} was not in the lockfile`);
    else if (!isDeepStrictEqual(old, t))
      drift.push(`transport ${name} changed (ok ${String(old.ok)} → ${String(t.ok)}, or its capabilities)`);
  }
  return drift;
}
