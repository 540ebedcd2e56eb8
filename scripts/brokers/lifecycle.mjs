// Generic up / down / restart / status / pid on top of a broker definition.
//
// A broker definition (see rabbitmq.mjs, kafka.mjs, ...) provides:
//   name, ports[], marker (string found in its cmdline/environ, proving the process is ours),
//   readyTimeoutMs, stopTimeoutMs,
//   available()        -> null or a reason it cannot run here (azure without a build)
//   version()          -> string | null (cheap)
//   prepare(ctx)       -> install / download / configure (idempotent, may be slow the first time)
//   start(ctx)         -> spawn detached, return the pid to record
//   ready(ctx)         -> one readiness probe, truthy when clients can use it
//   pid()              -> optional: the server's own pid (rabbitmq's beam writes its pid file)
//   stop(pid, ctx)     -> optional graceful stop (default SIGTERM to the process group)
import { logFile, pidFile, repoRoot, brokersDir, ensureDir, dataDir } from './paths.mjs';
import {
  cmdline,
  environ,
  fileSize,
  isAlive,
  listeningPids,
  logLine,
  readPid,
  removeFile,
  stopProcess,
  waitFor,
  withLock,
  writePid,
} from './process-utils.mjs';
import { join } from 'node:path';
import { BrokerError, step } from './errors.mjs';
import { bounded, PROBE_TIMEOUT_MS } from './probes.mjs';

const noop = () => {};
const lockFile = (broker) => join(dataDir(broker.name), 'lock');

function isOurs(broker, pid) {
  if (!isAlive(pid)) return false;
  const cmd = cmdline(pid);
  if (!cmd.includes(broker.marker)) return false;
  // Started from this checkout: its command line or environment mentions our .brokers dir.
  return cmd.includes(brokersDir) || environ(pid).includes(brokersDir);
}

/**
 * The running server's pid and whether this checkout manages it.
 * @returns {{ pid: number, managed: boolean } | null}
 */
export function findPid(broker) {
  const recorded = broker.pid?.() ?? readPid(pidFile(broker.name));
  if (recorded && isOurs(broker, recorded)) return { pid: recorded, managed: true };
  // Pid file lost (e.g. .brokers/data deleted while running)? Look at who holds the port.
  for (const pid of listeningPids(broker.ports[0])) {
    return { pid, managed: isOurs(broker, pid) };
  }
  return null;
}

/** One readiness check, bounded: a node that accepts TCP but never answers counts as not ready. */
async function isReady(broker, ctx) {
  return (await bounded(broker.ready(ctx), 2 * PROBE_TIMEOUT_MS, 'readiness check')).ok;
}

/**
 * Health of a running broker, never slower than about two probe bounds: first the broker's protocol
 * probe (AMQP handshake, Kafka ApiVersions, HTTP, SQL; see probes.mjs), then its readiness check.
 * 'unhealthy': the port does not answer the protocol (for example accepts TCP and stays silent);
 * 'starting': the protocol answers but clients cannot work yet (for example Kafka's group
 * coordinator still loading). A definition without `probe` (a plug-in) gets 'starting/unhealthy'.
 * @returns {Promise<{ state: 'up'|'unhealthy'|'starting'|'starting/unhealthy', note?: string, ms: number }>}
 */
export async function health(broker, { timeoutMs = PROBE_TIMEOUT_MS } = {}) {
  const t0 = Date.now();
  if (broker.probe) {
    const probe = await bounded(
      broker.probe({ timeoutMs }).then((p) => (p.ok ? true : Promise.reject(new Error(p.detail)))),
      timeoutMs + 500,
      'protocol probe',
    );
    if (!probe.ok)
      return { state: 'unhealthy', note: probe.detail.replace(/^protocol probe: /, ''), ms: Date.now() - t0 };
  }
  const ready = await bounded(broker.ready({ log: noop, logOffset: 0 }), timeoutMs, 'readiness check');
  if (ready.ok) return { state: 'up', ms: Date.now() - t0 };
  return { state: broker.probe ? 'starting' : 'starting/unhealthy', note: ready.detail, ms: Date.now() - t0 };
}

/**
 * Starts the broker unless it already runs; resolves once clients can use it.
 * @returns {Promise<{ name: string, pid: number, version: string|null, ports: number[], ms: number, alreadyRunning: boolean, managed: boolean }>}
 */
export async function up(broker, { log = noop } = {}) {
  const unavailable = broker.available?.();
  if (unavailable) throw new BrokerError(broker.name, 'check prerequisites', unavailable, { noLog: true });
  return withLock(lockFile(broker), () => upLocked(broker, log));
}

async function upLocked(broker, log) {
  const t0 = Date.now();
  const ctx = { log, logOffset: fileSize(logFile(broker.name)) };
  const existing = findPid(broker);
  if (existing) {
    if (await isReady(broker, ctx)) {
      if (!existing.managed) {
        log(
          `${broker.name}: port ${broker.ports[0]} is served by pid ${existing.pid}, which this checkout did not start; using it (restart/down will refuse)`,
        );
      }
      return result(broker, existing, t0, true);
    }
    if (!existing.managed) {
      throw new BrokerError(
        broker.name,
        'check ports',
        `port ${broker.ports[0]} is held by pid ${existing.pid} (${cmdline(existing.pid).slice(0, 160)}), which is not a ready ${broker.name} started from this checkout; stop it first`,
        { noLog: true },
      );
    }
    // Ours but not answering: it may still be booting (another `up` in flight) — give it the
    // normal readiness window before declaring it broken.
    log(`${broker.name}: pid ${existing.pid} is running but not ready yet; waiting`);
    await waitReady(broker, ctx, existing.pid);
    return result(broker, existing, t0, true);
  }
  ensureDir(dataDir(broker.name));
  await step(broker.name, 'prepare', () => broker.prepare(ctx), ctx.logOffset);
  for (const port of broker.ports) {
    const holders = listeningPids(port);
    if (holders.length) {
      throw new BrokerError(
        broker.name,
        'check ports',
        `port ${port} is already in use by pid ${holders[0]} (${cmdline(holders[0]).slice(0, 160)})`,
        { noLog: true },
      );
    }
  }
  ctx.logOffset = fileSize(logFile(broker.name));
  logLine(logFile(broker.name), `starting ${broker.name} (repo ${repoRoot})`);
  const spawned = await step(broker.name, 'start process', () => broker.start(ctx), ctx.logOffset);
  writePid(pidFile(broker.name), spawned);
  ctx.spawnedPid = spawned;
  try {
    await waitReady(broker, ctx, spawned);
  } catch (error) {
    // Do not leave a half-started server holding the ports: the next `up` starts clean.
    const server = broker.pid?.();
    if (server) await stopProcess(server, { timeoutMs: 10_000 }).catch(() => {});
    await stopProcess(spawned, { timeoutMs: 10_000, group: true }).catch(() => {});
    removeFile(pidFile(broker.name));
    logLine(logFile(broker.name), `${broker.name} failed to become ready; stopped pid ${spawned}`);
    throw error;
  }
  const found = findPid(broker) ?? { pid: spawned, managed: true };
  logLine(logFile(broker.name), `${broker.name} ready in ${Date.now() - t0} ms (pid ${found.pid})`);
  return result(broker, found, t0, false);
}

async function waitReady(broker, ctx, pid) {
  await step(
    broker.name,
    'wait until ready',
    () =>
      waitFor(() => broker.ready(ctx), {
        timeoutMs: broker.readyTimeoutMs,
        intervalMs: 250,
        alive: () => isAlive(pid) || Boolean(broker.pid?.() && isAlive(broker.pid())),
        what: `${broker.name} to accept clients on 127.0.0.1:${broker.ports[0]}`,
      }),
    ctx.logOffset,
  );
}

function result(broker, found, t0, alreadyRunning) {
  return {
    name: broker.name,
    pid: found.pid,
    managed: found.managed,
    version: broker.version(),
    ports: broker.ports,
    ms: Date.now() - t0,
    alreadyRunning,
  };
}

/** Stops the broker (graceful, waits for exit). Resolves { stopped, pid, ms }. */
export async function down(broker, { log = noop } = {}) {
  return withLock(lockFile(broker), () => downLocked(broker, log));
}

async function downLocked(broker, log) {
  const t0 = Date.now();
  const found = findPid(broker);
  if (!found) {
    removeFile(pidFile(broker.name));
    return { name: broker.name, stopped: false, pid: null, ms: 0 };
  }
  if (!found.managed) {
    throw new BrokerError(
      broker.name,
      'stop',
      `port ${broker.ports[0]} is served by pid ${found.pid} (${cmdline(found.pid).slice(0, 160)}), which this checkout did not start; refusing to stop it`,
      { noLog: true },
    );
  }
  logLine(logFile(broker.name), `stopping ${broker.name} (pid ${found.pid})`);
  const killed = await step(broker.name, 'stop', async () => {
    if (broker.stop) return broker.stop(found.pid, { log });
    return stopProcess(found.pid, { timeoutMs: broker.stopTimeoutMs, group: true });
  });
  // The launcher (pid file) may differ from the server pid (rabbitmq): make sure both are gone.
  const launcher = readPid(pidFile(broker.name));
  if (launcher && launcher !== found.pid && isOurs(broker, launcher)) {
    await stopProcess(launcher, { timeoutMs: 10_000, group: true });
  }
  removeFile(pidFile(broker.name));
  logLine(logFile(broker.name), `${broker.name} stopped${killed ? ' (had to SIGKILL)' : ''}`);
  if (killed) log(`${broker.name}: did not stop within ${broker.stopTimeoutMs} ms, killed`);
  return { name: broker.name, stopped: true, pid: found.pid, ms: Date.now() - t0, killed };
}

/** Stop (graceful) + start with the same data + wait until ready. */
export async function restart(broker, { log = noop } = {}) {
  const unavailable = broker.available?.();
  if (unavailable) throw new BrokerError(broker.name, 'check prerequisites', unavailable, { noLog: true });
  return withLock(lockFile(broker), async () => {
    const t0 = Date.now();
    const stopped = await downLocked(broker, log);
    const started = await upLocked(broker, log);
    return { ...started, previousPid: stopped.pid, ms: Date.now() - t0 };
  });
}

export async function status(broker, options) {
  const found = findPid(broker);
  const unavailable = found ? null : broker.available?.();
  const checked = found ? await health(broker, options) : null;
  const notes = [checked?.note, found && !found.managed ? 'not started from this checkout' : undefined];
  return {
    name: broker.name,
    version: broker.version(),
    ports: broker.ports,
    pid: found?.pid ?? null,
    managed: found?.managed ?? false,
    state: unavailable ? 'unavailable' : !found ? 'down' : checked.state,
    note: unavailable ?? (notes.filter(Boolean).join('; ') || undefined),
    log: logFile(broker.name),
  };
}
