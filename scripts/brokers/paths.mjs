// Where everything lives. All state is under <repo>/.brokers (git-ignored; OMNIBUS_BROKERS_DIR overrides):
//   .brokers/logs/<broker>.log   one log per broker (server output + install/download output)
//   .brokers/data/<broker>/      data, pid file, generated config
//   .brokers/cache/              downloaded jars and the fauxqs/node runtime
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/**
 * Broker state lives in `<repo>/.brokers`, with two exceptions so that several git worktrees of this
 * repository manage (restart, stop) one shared set of brokers: OMNIBUS_BROKERS_DIR names the folder
 * outright, and a linked worktree (`git worktree add`) uses its main checkout's `.brokers` when that
 * exists.
 */
export const brokersDir = process.env.OMNIBUS_BROKERS_DIR
  ? resolve(process.env.OMNIBUS_BROKERS_DIR)
  : (mainCheckoutBrokers() ?? join(repoRoot, '.brokers'));

function mainCheckoutBrokers() {
  try {
    const dotGit = join(repoRoot, '.git');
    if (!statSync(dotGit).isFile()) return null; // a normal clone: its own .brokers
    const gitDir = resolve(repoRoot, /^gitdir:\s*(.+)$/m.exec(readFileSync(dotGit, 'utf8'))[1].trim());
    const commonDir = resolve(gitDir, readFileSync(join(gitDir, 'commondir'), 'utf8').trim());
    const shared = join(dirname(commonDir), '.brokers');
    return existsSync(shared) ? shared : null;
  } catch {
    return null;
  }
}

export const logsDir = join(brokersDir, 'logs');
export const dataRoot = join(brokersDir, 'data');
export const cacheDir = join(brokersDir, 'cache');
export const ciDir = join(repoRoot, '.ci', 'brokers');

export const logFile = (broker) => join(logsDir, `${broker}.log`);
export const dataDir = (broker) => join(dataRoot, broker);
export const pidFile = (broker) => join(dataDir(broker), 'pid');

export function ensureDir(dir) {
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** The loopback address every broker binds to and every client uses. */
export const HOST = '127.0.0.1';
