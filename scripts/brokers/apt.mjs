// Installs a Debian package for a broker. The broker manager starts brokers concurrently, and two
// apt-get processes cannot hold dpkg's lock at once: on a fresh machine `up` of several brokers
// failed with "Could not get lock /var/lib/dpkg/lock-frontend". So installs here are queued one
// after another within this process, and apt-get itself waits for a lock held by another process
// (another `up`, or the system's own apt) instead of failing at once.
import { run } from './process-utils.mjs';

const isRoot = process.getuid?.() === 0;
/** How long apt-get waits for dpkg's lock held by another process before it gives up. */
const LOCK_WAIT_SECONDS = 600;
let queue = Promise.resolve();

/**
 * Installs `pkg` with apt-get (non-interactive), one install at a time. The package lists are
 * refreshed only when the first install attempt fails without them.
 * @param {string} pkg Debian package name.
 * @param {{ log?: string, installed: () => boolean }} options `installed` says whether the install worked.
 * @returns {Promise<void>} rejects with apt-get's output when the package could not be installed.
 */
export function aptInstall(pkg, { log, installed }) {
  if (!isRoot) {
    return Promise.reject(new Error(`${pkg} is not installed; run as root (or: sudo apt-get install -y ${pkg})`));
  }
  const attempt = queue.then(() => install(pkg, log, installed));
  queue = attempt.catch(() => undefined);
  return attempt;
}

async function install(pkg, log, installed) {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const lockWait = ['-o', `DPkg::Lock::Timeout=${LOCK_WAIT_SECONDS}`];
  const get = () =>
    run('apt-get', [...lockWait, 'install', '-y', '-qq', pkg], { env, log, timeoutMs: 15 * 60_000, allowFail: true });
  let result = await get();
  if (result.code !== 0) {
    await run('apt-get', [...lockWait, 'update', '-qq'], { env, log, timeoutMs: 10 * 60_000, allowFail: true });
    result = await get();
  }
  if (result.code !== 0 || !installed()) throw new Error(`apt-get install ${pkg} failed:\n${result.output}`);
}
