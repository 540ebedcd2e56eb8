// PostgreSQL from Debian's apt package (`postgresql`, i.e. PostgreSQL 15 on Debian 12), run without
// systemd or pg_ctlcluster as the `postgres` user, with its data directory (initdb'd once) under
// .brokers/data/postgres/pgdata and its log on stderr (appended to .brokers/logs/postgres.log).
// Listens on 127.0.0.1:55432 only (not 5432, which a system cluster may hold); unix socket in the
// data directory. Superuser `omnibus`, password `omnibus`, database `omnibus`.
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir, ensureDir, HOST, logFile, logsDir } from './paths.mjs';
import { isAlive, readPid, run, spawnDetached, stopProcess } from './process-utils.mjs';
import { step } from './errors.mjs';
import { aptInstall } from './apt.mjs';
import { postgresProbe } from './probes.mjs';

const NAME = 'postgres';
const PORT = 55432;
const USER = 'omnibus';
const PASSWORD = 'omnibus';
const DATABASE = 'omnibus';
const PREFERRED_MAJOR = '15';
const PG_ROOT = '/usr/lib/postgresql';

const dir = dataDir(NAME);
const pgdata = join(dir, 'pgdata');
const isRoot = process.getuid?.() === 0;

/** Installed major versions, newest first, with the preferred one (15) in front. */
function majors() {
  try {
    const found = readdirSync(PG_ROOT).filter((d) => existsSync(join(PG_ROOT, d, 'bin', 'postgres')));
    return found.sort((a, b) =>
      a === PREFERRED_MAJOR ? -1 : b === PREFERRED_MAJOR ? 1 : Number(b) - Number(a),
    );
  } catch {
    return [];
  }
}

const binDir = () => (majors()[0] ? join(PG_ROOT, majors()[0], 'bin') : null);

/** Command prefix: as root, run as the `postgres` user (PostgreSQL refuses to run as root). */
const asPostgres = (bin, args) =>
  isRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];

async function install(log) {
  if (binDir()) return;
  await aptInstall('postgresql', { log, installed: () => binDir() !== null });
  // Debian's package creates and (with systemd) starts a system cluster on 5432; we never use it.
}

async function initdb(log) {
  if (existsSync(join(pgdata, 'PG_VERSION'))) return;
  ensureDir(pgdata);
  const pwfile = join(dir, 'pwfile');
  writeFileSync(pwfile, `${PASSWORD}\n`, { mode: 0o600 });
  if (isRoot) await run('chown', ['-R', 'postgres:postgres', dir], { log });
  const [cmd, args] = asPostgres(join(binDir(), 'initdb'), [
    '-D',
    pgdata,
    '-U',
    USER,
    `--pwfile=${pwfile}`,
    '--auth-local=trust',
    '--auth-host=scram-sha-256',
    '-E',
    'UTF8',
    '--locale=C.UTF-8',
  ]);
  await run(cmd, args, { log, env: { ...process.env, LANG: 'C.UTF-8', LC_ALL: 'C.UTF-8' } });
}

export default {
  name: NAME,
  ports: [PORT],
  marker: 'postgres',
  readyTimeoutMs: 60_000,
  stopTimeoutMs: 60_000,
  url: `postgres://${USER}:${PASSWORD}@${HOST}:${PORT}/${DATABASE}`,

  version() {
    return majors()[0] ?? null;
  },

  async prepare() {
    const log = logFile(NAME);
    ensureDir(logsDir);
    await step(NAME, 'install postgresql (apt-get)', () => install(log));
    ensureDir(dir);
    if (isRoot) {
      await step(NAME, 'chown data dir', () => run('chown', ['-R', 'postgres:postgres', dir], { log }));
      const probe = await run('runuser', ['-u', 'postgres', '--', 'test', '-w', dir], { allowFail: true });
      if (probe.code !== 0) {
        throw new Error(
          `user postgres cannot write ${dir}; make the checkout's parent directories world-traversable (chmod o+x)`,
        );
      }
    }
    await step(NAME, 'initdb', () => initdb(log));
  },

  async start() {
    const [cmd, args] = asPostgres(join(binDir(), 'postgres'), [
      '-D',
      pgdata,
      '-p',
      String(PORT),
      '-c',
      `listen_addresses=${HOST}`,
      '-c',
      `unix_socket_directories=${dir}`,
      '-c',
      'max_connections=200',
      '-c',
      'logging_collector=off',
      '-c',
      'log_min_messages=warning',
    ]);
    return spawnDetached(cmd, args, {
      env: { ...process.env, LANG: 'C.UTF-8' },
      cwd: dir,
      log: logFile(NAME),
    });
  },

  /** Bounded protocol answer (SSL negotiation); the SQL round trip is ready(), bounded by status. */
  probe({ timeoutMs } = {}) {
    return postgresProbe(HOST, PORT, { timeoutMs });
  },

  async ready() {
    const { default: pg } = await import('pg');
    // The `omnibus` database is created on the first successful connection to `postgres`.
    const admin = new pg.Client({
      connectionString: this.url.replace(/\/[^/]*$/, '/postgres'),
      connectionTimeoutMillis: 2000,
    });
    admin.on('error', () => {});
    await admin.connect();
    try {
      const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
      if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE}`);
    } finally {
      await admin.end();
    }
    return true;
  },

  /** The postmaster's pid (first line of postmaster.pid, written by the server itself). */
  pid() {
    const pid = readPid(join(pgdata, 'postmaster.pid'));
    return pid && isAlive(pid) ? pid : null;
  },

  /** SIGINT is PostgreSQL's "fast" shutdown: clients are disconnected, data is checkpointed. */
  async stop(pid) {
    return stopProcess(pid, { signal: 'SIGINT', timeoutMs: this.stopTimeoutMs });
  },
};
