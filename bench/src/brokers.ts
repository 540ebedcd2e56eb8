import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The repository root (bench/dist/src → ../../..). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const CLI = `${REPO_ROOT}scripts/brokers/cli.mjs`;

/** One row of `scripts/brokers/cli.mjs status`. */
export interface BrokerStatus {
  readonly name: string;
  readonly version: string;
  readonly pid: number | undefined;
  readonly state: string;
}

/** Status of every broker the manager knows (empty when the manager is unavailable). */
export async function brokerStatus(): Promise<BrokerStatus[]> {
  try {
    const { stdout } = await run(process.execPath, [CLI, 'status'], { timeout: 30_000 });
    return stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((line) => line.split(/\s{2,}/))
      .map(([name = '', version = '', , pid = '-', state = '']) => ({
        name,
        version,
        pid: pid === '-' ? undefined : Number(pid),
        state,
      }));
  } catch {
    return [];
  }
}

/** Start `broker` through the broker manager (no-op when it is already up). */
export async function ensureBroker(broker: string): Promise<void> {
  await run(process.execPath, [CLI, 'up', broker], { timeout: 300_000 });
}

/** Stop `broker` through the broker manager. */
export async function stopBroker(broker: string): Promise<void> {
  await run(process.execPath, [CLI, 'down', broker], { timeout: 120_000 });
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ; 100 on Linux). */
const TICKS_PER_SECOND = 100;

/** CPU time (µs, user + system, all threads) a process has used so far; undefined when unreadable. */
export function processCpuMicros(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state); utime = field 14, stime = field 15.
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1_000_000) / TICKS_PER_SECOND;
  } catch {
    return undefined;
  }
}
