// RabbitMQ from Debian's apt package, run without systemd as the `rabbitmq` user, with its
// mnesia (data), plugins file and pid file under .brokers/data/rabbitmq and its log on stdout
// (appended to .brokers/logs/rabbitmq.log). Port 5672 on 127.0.0.1, guest/guest.
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ciDir, dataDir, ensureDir, HOST, logFile } from './paths.mjs';
import { isAlive, logLine, readPid, run, spawnDetached, stopProcess } from './process-utils.mjs';
import { step } from './errors.mjs';
import { aptInstall } from './apt.mjs';
import { amqp091Probe } from './probes.mjs';

const NAME = 'rabbitmq';
const PORT = 5672;
const NODENAME = 'rabbit@localhost';
const LIB = '/usr/lib/rabbitmq';
const SERVER = `${LIB}/bin/rabbitmq-server`;
const CTL = `${LIB}/bin/rabbitmqctl`;
const ENV_CONF = '/etc/rabbitmq/rabbitmq-env.conf';
/**
 * Plugins to enable (offline: by writing the enabled_plugins file). None by default: the RabbitMQ
 * adapter is documented to need a stock broker without plugins (docs/transports/rabbitmq.md), so
 * tests must not pass only because a plugin happens to be on. Comma-separated override, e.g.
 * OMNIBUS_RABBITMQ_PLUGINS=rabbitmq_management,rabbitmq_consistent_hash_exchange (then `restart`).
 */
const PLUGINS = (process.env.OMNIBUS_RABBITMQ_PLUGINS ?? '')
  .split(',')
  .map((p) => p.trim())
  .filter(Boolean);

const dir = dataDir(NAME);
const beamPidFile = join(dir, 'beam.pid');
const isRoot = process.getuid?.() === 0;

function env() {
  return {
    ...process.env,
    RABBITMQ_NODENAME: NODENAME,
    RABBITMQ_CONFIG_FILE: join(ciDir, 'rabbitmq', 'rabbitmq.conf'),
    // Settings rabbitmq.conf cannot express (the quorum dead-letter worker's re-send timer).
    RABBITMQ_ADVANCED_CONFIG_FILE: join(ciDir, 'rabbitmq', 'advanced.config'),
    RABBITMQ_MNESIA_BASE: join(dir, 'mnesia'),
    RABBITMQ_LOG_BASE: join(dir, 'log'),
    RABBITMQ_PID_FILE: beamPidFile,
    RABBITMQ_ENABLED_PLUGINS_FILE: join(dir, 'enabled_plugins'),
    ERL_EPMD_ADDRESS: HOST,
    LANG: 'C.UTF-8',
    LC_ALL: 'C.UTF-8',
    ...(isRoot ? { HOME: '/var/lib/rabbitmq' } : {}),
  };
}

/** Command prefix: as root, run as the `rabbitmq` user (shares its Erlang cookie with rabbitmqctl). */
const asRabbit = (bin, args) => (isRoot ? ['runuser', ['-u', 'rabbitmq', '--', bin, ...args]] : [bin, args]);

/**
 * Open-file limit for the node. RabbitMQ needs a descriptor per queue, connection and segment file;
 * with the 1,024 a login shell gives, a few hundred quorum queues exhaust it and the node accepts TCP
 * but stops answering AMQP. RabbitMQ's production guidance (and Debian's systemd unit) is 65,536; where
 * the hard limit is lower (a sandbox without CAP_SYS_RESOURCE), the node gets the hard limit.
 */
export const RABBITMQ_FILE_LIMIT = 65_536;

/**
 * Wraps a command in a shell that raises its open-file limit to RABBITMQ_FILE_LIMIT, or to the hard
 * limit where that is not permitted, and never fails the start over it. It runs inside runuser:
 * runuser's pam_limits resets limits set outside it to pid 1's.
 */
function withFileLimit(bin, args) {
  const raise = `ulimit -n ${RABBITMQ_FILE_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"`;
  return ['/bin/sh', ['-c', raise, bin, ...args]];
}

async function install(log) {
  if (existsSync(SERVER)) return;
  logLine(log, 'installing rabbitmq-server with apt-get');
  await aptInstall('rabbitmq-server', { log, installed: () => existsSync(SERVER) });
  // Fresh install only: pin the node name so a hostname that does not resolve cannot break
  // startup, and so a bare `rabbitmqctl` (no -n) finds our node.
  const conf = existsSync(ENV_CONF) ? readFileSync(ENV_CONF, 'utf8') : '';
  if (!/^\s*NODENAME=/m.test(conf)) writeFileSync(ENV_CONF, `${conf.trimEnd()}\nNODENAME=${NODENAME}\n`);
  // On machines with systemd the package starts a system node on 5672 (all interfaces); stop it.
  await run('sh', ['-c', 'command -v systemctl >/dev/null && systemctl stop rabbitmq-server || true'], {
    log,
    allowFail: true,
  });
}

export default {
  name: NAME,
  ports: [PORT],
  marker: 'rabbit',
  readyTimeoutMs: 120_000,
  stopTimeoutMs: 60_000,
  url: `amqp://guest:guest@${HOST}:${PORT}`,

  version() {
    try {
      const d = readdirSync(`${LIB}/lib`).find((f) => f.startsWith('rabbitmq_server-'));
      return d ? d.slice('rabbitmq_server-'.length) : null;
    } catch {
      return null;
    }
  },

  async prepare() {
    const log = logFile(NAME);
    await step(NAME, 'install rabbitmq-server (apt-get)', () => install(log));
    ensureDir(join(dir, 'mnesia'));
    ensureDir(join(dir, 'log'));
    writeFileSync(join(dir, 'enabled_plugins'), `[${PLUGINS.join(',')}].\n`);
    if (isRoot) {
      await step(NAME, 'chown data dir', () => run('chown', ['-R', 'rabbitmq:rabbitmq', dir], { log }));
      const probe = await run('runuser', ['-u', 'rabbitmq', '--', 'test', '-w', dir], { allowFail: true });
      if (probe.code !== 0) {
        throw new Error(
          `user rabbitmq cannot write ${dir}; make the checkout's parent directories world-traversable (chmod o+x)`,
        );
      }
    }
  },

  async start() {
    const [cmd, args] = asRabbit(...withFileLimit(SERVER, []));
    return spawnDetached(cmd, args, { env: env(), cwd: dir, log: logFile(NAME) });
  },

  /** Bounded AMQP 0-9-1 handshake (status: a node accepting TCP but not AMQP is unhealthy). */
  probe({ timeoutMs } = {}) {
    return amqp091Probe(HOST, PORT, { timeoutMs });
  },

  async ready() {
    const { default: amqp } = await import('amqplib');
    const conn = await amqp.connect(this.url, { timeout: 2000 });
    await conn.close();
    return true;
  },

  /** The Erlang VM's pid (written by the node itself once booted). */
  pid() {
    const pid = readPid(beamPidFile);
    return pid && isAlive(pid) ? pid : null;
  },

  /** SIGTERM to the VM is RabbitMQ's graceful shutdown (same as `rabbitmqctl stop`). */
  async stop(pid) {
    return stopProcess(pid, { timeoutMs: this.stopTimeoutMs });
  },

  /** rabbitmqctl with our node name and environment, e.g. ctl(['list_queues']). */
  async ctl(args) {
    const [cmd, full] = asRabbit(CTL, ['-n', NODENAME, ...args]);
    return run(cmd, full, { env: env() });
  },
};
