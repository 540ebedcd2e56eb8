// Process, file and network helpers shared by the broker modules. Node built-ins only.
import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  openSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  renameSync,
  statSync,
  writeFileSync,
  appendFileSync,
  rmSync,
  fstatSync,
  readSync,
  writeSync,
} from 'node:fs';
import { connect } from 'node:net';
import { request } from 'node:http';
import { dirname } from 'node:path';
import { ensureDir } from './paths.mjs';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const MAX_LOG_BYTES = 20 * 1024 * 1024;

/** Last `lines` lines of a text file ('' when missing). Reads at most the last 256 KiB. */
export function tailFile(path, lines = 30) {
  let fd;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    const len = Math.min(size, 256 * 1024);
    const buf = Buffer.alloc(len);
    readSync(fd, buf, 0, len, size - len);
    const all = buf.toString('utf8').split('\n');
    if (all.at(-1) === '') all.pop();
    return all.slice(-lines).join('\n');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

export function fileSize(path) {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** Text appended to `path` after byte `offset` (to look for a readiness line of the current run). */
export function readFrom(path, offset) {
  let fd;
  try {
    fd = openSync(path, 'r');
    const size = fstatSync(fd).size;
    if (size <= offset) return '';
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    return buf.toString('utf8');
  } catch {
    return '';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Opens a log for appending, rotating it to <log>.1 first when it grew past 20 MiB. */
export function openLog(path) {
  ensureDir(dirname(path));
  if (fileSize(path) > MAX_LOG_BYTES) renameSync(path, `${path}.1`);
  return openSync(path, 'a');
}

export function logLine(path, text) {
  ensureDir(dirname(path));
  appendFileSync(path, `[${new Date().toISOString()}] [omnibus-brokers] ${text}\n`);
}

/**
 * Starts a long-running server that outlives this process: own session and process group,
 * stdin closed, stdout+stderr appended to `log`. Resolves with the pid once the OS spawned it.
 */
export async function spawnDetached(cmd, args, { env, cwd, log }) {
  const fd = openLog(log);
  try {
    const child = spawn(cmd, args, {
      cwd,
      env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    await new Promise((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', reject);
    });
    child.unref();
    return child.pid;
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs a command to completion, appending its output to `log` (when given) and keeping the last
 * 4 KiB in memory for error messages. Rejects on non-zero exit unless `allowFail`.
 */
export function run(cmd, args, { env, cwd, log, allowFail = false, timeoutMs = 0, input } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd,
      env,
      stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let timer;
    const onData = (chunk) => {
      const text = chunk.toString();
      out = (out + text).slice(-4096);
      if (log) appendFileSync(log, text);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    if (input !== undefined) child.stdin.end(input);
    if (timeoutMs) {
      timer = setTimeout(() => {
        child.kill('SIGKILL');
        out += `\n(killed after ${timeoutMs} ms)`;
      }, timeoutMs);
    }
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`cannot run ${cmd}: ${error.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0 || allowFail) resolve({ code, output: out });
      else {
        const last = out.trim().split('\n').slice(-8).join('\n');
        reject(
          new Error(`${cmd} ${args.join(' ')} exited with ${code ?? signal}${last ? `:\n${last}` : ''}`),
        );
      }
    });
  });
}

export function isAlive(pid) {
  if (!pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (error) {
    if (error.code !== 'EPERM') return false;
  }
  // A zombie still answers kill(0); it is not running.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

export function cmdline(pid) {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

export function environ(pid) {
  try {
    return readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').join('\n');
  } catch {
    return '';
  }
}

export function readPid(path) {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

export function writePid(path, pid) {
  ensureDir(dirname(path));
  writeFileSync(path, `${pid}\n`);
}

export function removeFile(path) {
  rmSync(path, { force: true });
}

/** Pids of processes holding a LISTEN socket on `port` (any local address), via /proc. */
export function listeningPids(port) {
  const inodes = new Set();
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    if (!existsSync(table)) continue;
    const rows = readFileSync(table, 'utf8').trim().split('\n').slice(1);
    for (const row of rows) {
      const cols = row.trim().split(/\s+/);
      const localPort = Number.parseInt(cols[1].split(':').at(-1), 16);
      if (localPort === port && cols[3] === '0A') inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return [];
  const pids = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let fds;
    try {
      fds = readdirSync(`/proc/${entry}/fd`);
    } catch {
      continue;
    }
    for (const fd of fds) {
      let target;
      try {
        target = readlinkSync(`/proc/${entry}/fd/${fd}`);
      } catch {
        continue;
      }
      const m = /^socket:\[(\d+)\]$/.exec(target);
      if (m && inodes.has(m[1])) {
        pids.push(Number(entry));
        break;
      }
    }
  }
  return pids;
}

/** Polls `check` until it returns a truthy value; fails early when `alive()` turns false. */
export async function waitFor(check, { timeoutMs, intervalMs = 250, alive, what }) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (error) {
      lastError = error;
    }
    if (alive && !alive()) {
      throw new Error(`the process exited while waiting for ${what}`);
    }
    if (Date.now() > deadline) {
      const why = lastError ? ` (last error: ${lastError.message ?? lastError})` : '';
      throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}${why}`);
    }
    await sleep(intervalMs);
  }
}

/**
 * Stops a process gracefully: `signal` to it (or to its process group), waits up to
 * `timeoutMs` for it to exit, then SIGKILL. Resolves true when it had to kill.
 */
export async function stopProcess(pid, { signal = 'SIGTERM', timeoutMs = 30_000, group = false } = {}) {
  if (!isAlive(pid)) return false;
  const send = (sig) => {
    try {
      process.kill(group ? -pid : pid, sig);
    } catch {
      try {
        process.kill(pid, sig);
      } catch {
        /* already gone */
      }
    }
  };
  send(signal);
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return false;
    await sleep(100);
  }
  send('SIGKILL');
  while (isAlive(pid)) await sleep(100);
  return true;
}

export function tcpProbe(host, port, timeoutMs = 1000) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

export function httpGet(url, timeoutMs = 2000) {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url} timed out`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Runs fn while holding an exclusive lock file (pid inside), so two processes (e.g. parallel test
 * workers) never start or stop the same broker at once. A lock whose owner died is taken over.
 */
export async function withLock(path, fn, { timeoutMs = 15 * 60_000 } = {}) {
  ensureDir(dirname(path));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if (error.code !== 'EEXIST') throw error;
      const owner = readPid(path);
      if (owner === null) {
        // Being written right now, or garbage: give the writer a moment, then take it over.
        await sleep(100);
        if (readPid(path) === null) removeFile(path);
        continue;
      }
      if (!isAlive(owner)) {
        removeFile(path);
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${path} (held by pid ${owner})`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    removeFile(path);
  }
}
