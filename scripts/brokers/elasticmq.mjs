// ElasticMQ (SQS-compatible) from Maven Central jars, on 127.0.0.1:9324.
// Jars: .ci/brokers/elasticmq/pom.xml -> .brokers/cache/elasticmq-libs (separate from Kafka's:
// slf4j 2 + logback here, slf4j 1.7 + log4j2 there). Config: .ci/brokers/elasticmq.conf.
// Data (H2 store: queues with their attributes, messages): .brokers/data/sqs.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, ciDir, dataDir, HOST, logFile } from './paths.mjs';
import { ensureJars, jarVersion, javaBin, pomProperty, requireJava } from './java.mjs';
import { httpGet, logLine, readFrom, run, spawnDetached, stopProcess } from './process-utils.mjs';
import { step } from './errors.mjs';
import { httpProbe } from './probes.mjs';

const NAME = 'sqs';
const PORT = 9324;
const pom = join(ciDir, 'elasticmq', 'pom.xml');
const libDir = join(cacheDir, 'elasticmq-libs');
const dir = dataDir(NAME);
const RESTORED = /Restored \d+ messages in queue /g;

/**
 * Number of queues in the H2 store (read while the server is stopped, with the H2 jar ElasticMQ
 * ships). ElasticMQ answers /health before it has restored them: the REST server starts first,
 * then each queue is re-created and its messages restored asynchronously (seconds, with many
 * queues), so readiness waits for that many "Restored N messages in queue" lines.
 */
async function persistedQueueCount() {
  if (!existsSync(join(dir, 'messages.mv.db'))) return 0;
  const h2 = readdirSync(libDir).find((f) => /^h2-.*\.jar$/.test(f));
  if (!h2) return 0;
  const { code, output } = await run(
    javaBin(),
    [
      '-XX:TieredStopAtLevel=1',
      '-cp',
      join(libDir, h2),
      'org.h2.tools.Shell',
      '-url',
      'jdbc:h2:./messages;IFEXISTS=TRUE',
      '-user',
      '',
      '-password',
      '',
      '-sql',
      'SELECT COUNT(*) FROM QUEUE',
    ],
    { cwd: dir, allowFail: true, timeoutMs: 60_000 },
  );
  const m = /COUNT\(\*\)\s+(\d+)/.exec(output);
  return code === 0 && m ? Number(m[1]) : 0;
}

export default {
  name: NAME,
  ports: [PORT],
  marker: 'org.elasticmq.server.Main',
  readyTimeoutMs: 180_000,
  stopTimeoutMs: 30_000,
  endpoint: `http://${HOST}:${PORT}`,
  region: 'us-east-1',

  version() {
    const v = jarVersion(libDir, 'elasticmq-server_2.13') ?? pomProperty(pom, 'elasticmq.version');
    return v ? `elasticmq ${v}` : null;
  },

  async prepare(ctx) {
    await step(NAME, 'check java', () => requireJava(11));
    await step(NAME, 'download jars (mvn)', () => ensureJars(NAME, pom, libDir));
    ctx.expectedQueues = await persistedQueueCount();
    if (ctx.expectedQueues) logLine(logFile(NAME), `${ctx.expectedQueues} persisted queue(s) to restore`);
  },

  async start() {
    const args = [
      '-Xms64m',
      '-Xmx512m',
      '-XX:TieredStopAtLevel=1', // faster start on 2 cores (see kafka.mjs)
      ...(process.env.OMNIBUS_ELASTICMQ_JVM_OPTS ?? '').split(/\s+/).filter(Boolean),
      '-Djava.awt.headless=true',
      `-Dconfig.file=${join(ciDir, 'elasticmq.conf')}`,
      '-cp',
      `${libDir}/*`,
      'org.elasticmq.server.Main',
    ];
    return spawnDetached(javaBin(), args, { cwd: dir, log: logFile(NAME) });
  },

  /** Bounded HTTP GET /health. */
  probe({ timeoutMs } = {}) {
    return httpProbe(HOST, PORT, '/health', { timeoutMs });
  },

  /** /health answers; on a fresh start also every persisted queue has been restored. */
  async ready(ctx) {
    const res = await httpGet(`${this.endpoint}/health`, 1000);
    if (res.status !== 200) return false;
    if (!ctx?.spawnedPid || !ctx.expectedQueues) return true;
    const restored = readFrom(logFile(NAME), ctx.logOffset).match(RESTORED)?.length ?? 0;
    return restored >= ctx.expectedQueues;
  },

  async stop(pid) {
    return stopProcess(pid, { timeoutMs: this.stopTimeoutMs, group: true });
  },
};
