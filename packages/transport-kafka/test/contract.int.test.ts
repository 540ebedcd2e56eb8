import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describeTransportContract, FaultProxy } from '@omnibus/contract-tests';
import { openTelemetryHarness } from '@omnibus/contract-tests/telemetry';
import type { Producer } from 'kafkajs';
import { KafkaNaming } from '../src/kafka-naming.js';
import { parseKafkaOptions } from '../src/kafka-options.js';
import { KafkaDeadLetterReader } from './kafka-dead-letter-reader.js';
import {
  CONTRACT_PREFIX_ENV,
  TEST_OPTIONS,
  nativeKafka,
  nativeProducer,
  testTransport,
} from './kafka-test-support.js';

// One topic/group prefix for the whole run (the contract suite names destinations uniquely
// per case); the SIGKILL child inherits it through the environment.
const prefix = `ct${Date.now().toString(36)}.`;
process.env[CONTRACT_PREFIX_ENV] = prefix;

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};
const kafka = nativeKafka('omnibus-contract-oob');
const naming = new KafkaNaming({ topicPrefix: prefix, groupIdPrefix: prefix });
const deadLetters = new KafkaDeadLetterReader(kafka, prefix);
let producer: Promise<Producer> | undefined;

/** Run `node scripts/brokers/cli.mjs <command> kafka`; resolves with its stdout on exit code 0. */
function brokerCli(command: 'restart' | 'up' | 'pid'): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['scripts/brokers/cli.mjs', command, 'kafka'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0
        ? resolve(stdout.trim())
        : reject(new Error(`${command} kafka exited with ${String(code)}: ${stderr.slice(-1500)}`)),
    );
  });
}

/**
 * Restart the broker keeping its data; resolves once it accepts clients again. On this shared,
 * loaded machine the manager's readiness wait has timed out on a broker that did start; then
 * one `up` (idempotent) decides — but only a broker served by a NEW process counts as restarted,
 * so a restart that never happened cannot pass the restart case.
 */
async function restartBroker(): Promise<void> {
  const before = await brokerCli('pid');
  try {
    await brokerCli('restart');
  } catch (error) {
    const reason = (error as Error).message.split('\n')[0] ?? '';
    process.stderr.write(`[kafka contract] ${reason}; retrying with "up"\n`);
    await brokerCli('up');
    const after = await brokerCli('pid');
    if (after === before)
      throw new Error(`kafka was not restarted: pid ${before} still serves it (${reason})`);
  }
}

/**
 * The broker's PROXIED listener (.ci/brokers/kafka/server.properties) advertises port 9095, where
 * this run's fault proxy listens and forwards to the listener's own port 9094: a client that
 * bootstraps through the proxy opens every later connection through it, so resetting the proxy's
 * connections drops every connection of the transports under test (J2, J3), with the broker up.
 */
const PROXIED_LISTENER = { host: '127.0.0.1', port: 9094 };
const PROXY_PORT = 9095;
const proxy = await FaultProxy.start({ port: PROXY_PORT, target: PROXIED_LISTENER });
after(() => proxy.close());

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

// A broker started before the PROXIED listener was configured reads it on its next start. The
// kafka stage runs under the broker lock (it restarts the broker in J1 anyway).
before(async function () {
  this.timeout(300_000);
  if (await accepts(PROXIED_LISTENER.port)) return;
  process.stderr.write('[kafka contract] the broker has no PROXIED listener on 9094 yet: restarting it\n');
  await restartBroker();
});

describeTransportContract({
  name: 'kafka',
  version: pkg.version,
  // Group joins and broker restarts are slow on a shared 2-core machine (a restart took up to
  // two minutes under load): double every wait and timeout of the suite (override with
  // OMNIBUS_KAFKA_TIME_SCALE).
  timeScale: Number(process.env['OMNIBUS_KAFKA_TIME_SCALE'] ?? '2'),
  capabilities: testTransport(prefix).capabilities,
  // Every connection of the transports under test goes through the fault proxy.
  createTransport: () => testTransport(prefix, { brokers: [proxy.address] }),
  readDeadLetters: (destination, group, count, timeoutMs) =>
    deadLetters.read(destination, group, count, timeoutMs),
  publishForeign: async (destination, body, headers) => {
    producer ??= nativeProducer(kafka);
    await (
      await producer
    ).send({
      topic: naming.mainTopic(destination),
      acks: -1,
      // Kafka headers are bytes: a foreign producer writes numbers and booleans as their text.
      messages: [
        {
          value: Buffer.from(body),
          headers: Object.fromEntries(Object.entries(headers ?? {}).map(([k, v]) => [k, String(v)])),
        },
      ],
    });
  },
  publishTimeoutMs: parseKafkaOptions({ ...TEST_OPTIONS }).publishTimeoutMs,
  telemetry: openTelemetryHarness(),
  faults: {
    restartBroker,
    // RST on every proxied connection, both sides; the broker stays up.
    dropConnections: () => {
      proxy.reset();
      return Promise.resolve();
    },
    childTransportModule: fileURLToPath(new URL('./kafka-child-transport.js', import.meta.url)),
  },
});

after(async () => {
  await deadLetters.closeAll();
  if (producer !== undefined) await (await producer).disconnect();
});
