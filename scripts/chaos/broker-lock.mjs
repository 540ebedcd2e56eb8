// Holds the broker's own lock, /tmp/omnibus-broker-<broker>.lock (sqs covers sqs and sns), the lock
// every helper takes around a stage, restart or chaos run touching that broker: a `flock` child
// holds it until release() (or until this process dies: the child's stdin then closes).
import { spawn } from 'node:child_process';

/** The lock file of a broker (OMNIBUS_BROKER_LOCK overrides). */
export const brokerLockFile = (broker) =>
  process.env.OMNIBUS_BROKER_LOCK ?? `/tmp/omnibus-broker-${broker === 'sns' ? 'sqs' : broker}.lock`;

/** Wait for the broker's lock; resolves with release(). */
export async function acquireBrokerLock(broker) {
  const file = brokerLockFile(broker);
  const holder = spawn('flock', [file, 'sh', '-c', 'echo locked; cat >/dev/null'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  await new Promise((resolve, reject) => {
    holder.stdout.once('data', resolve);
    holder.once('error', reject);
    holder.once('exit', (code) => reject(new Error(`flock ${file} exited with ${code}`)));
  });
  return async () => {
    holder.stdin.end();
    await new Promise((resolve) => (holder.exitCode !== null ? resolve() : holder.once('exit', resolve)));
  };
}
