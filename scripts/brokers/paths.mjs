// Where everything lives. All state is under <repo>/.brokers (git-ignored; OMNIBUS_BROKERS_DIR overrides):
//   .brokers/logs/<broker>.log   one log per broker (server output + install/download output)
//   .brokers/data/<broker>/      data, pid file, generated config
//   .brokers/cache/              downloaded jars and the fauxqs/node runtime
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/**
 * Broker state lives in `<repo>/.brokers` unless OMNIBUS_BROKERS_DIR names another folder: several
 * git worktrees of this repository can then manage (restart, stop) one shared set of brokers.
 */
export const brokersDir = process.env.OMNIBUS_BROKERS_DIR ? resolve(process.env.OMNIBUS_BROKERS_DIR) : join(repoRoot, '.brokers');
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
