import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';

/** CPU, memory, kernel and Node of this machine. */
export function machineInfo(): Record<string, unknown> {
  const cpus = os.cpus();
  return {
    cpuModel: cpus[0]?.model ?? '?',
    logicalCpus: cpus.length,
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    v8: process.versions.v8,
    cgroupCpuMax: readOr('/sys/fs/cgroup/cpu.max'),
  };
}

function readOr(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

/** Installed versions of the packages the benchmark exercises. */
export function packageVersions(): Record<string, string> {
  const req = createRequire(import.meta.url);
  const out: Record<string, string> = {};
  for (const pkg of [
    '@omnibus/core',
    '@omnibus/transport-kafka',
    '@omnibus/transport-rabbitmq',
    '@omnibus/transport-sqs',
    '@omnibus/transport-azure',
    '@omnibus/transport-nats',
    '@nats-io/jetstream',
    'kafkajs',
    'amqplib',
    '@aws-sdk/client-sqs',
    '@azure/service-bus',
    'typescript',
  ]) {
    try {
      const main = req.resolve(pkg);
      out[pkg] = findVersion(main, pkg);
    } catch {
      out[pkg] = 'not installed';
    }
  }
  return out;
}

/** Walk up from a resolved entry point to the package.json named `pkg`. */
function findVersion(entry: string, pkg: string): string {
  let dir = entry;
  for (let i = 0; i < 8; i++) {
    dir = dir.slice(0, dir.lastIndexOf('/'));
    try {
      const json = JSON.parse(readFileSync(`${dir}/package.json`, 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (json.name === pkg) return json.version ?? '?';
    } catch {
      // keep walking
    }
  }
  return '?';
}
