// Runs fn while holding /tmp/omnibus-brokers.lock (the lock every helper takes around broker
// restarts and fault stages): a `flock` child holds it until fn settles.
import { spawn } from 'node:child_process';

export const BROKER_LOCK = process.env.OMNIBUS_BROKER_LOCK ?? '/tmp/omnibus-brokers.lock';

export async function withBrokerLock(fn) {
  const holder = spawn('flock', [BROKER_LOCK, 'sh', '-c', 'echo locked; cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    holder.stdout.once('data', resolve);
    holder.once('error', reject);
    holder.once('exit', (code) => reject(new Error(`flock ${BROKER_LOCK} exited with ${code}`)));
  });
  try {
    return await fn();
  } finally {
    holder.stdin.end();
    await new Promise((resolve) => (holder.exitCode !== null ? resolve() : holder.once('exit', resolve)));
  }
}
