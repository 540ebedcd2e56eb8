// Apache Kafka, single-node KRaft (combined broker + controller), run from Maven Central jars.
// Jars: .ci/brokers/kafka/pom.xml -> .brokers/cache/kafka-libs. Data: .brokers/data/kafka.
// Ports 9092 (PLAINTEXT, advertised 127.0.0.1:9092), 9093 (CONTROLLER) and 9094 (PROXIED,
// advertised 127.0.0.1:9095: the contract suite's fault proxy listens there and forwards to 9094).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, ciDir, dataDir, ensureDir, HOST, logFile } from './paths.mjs';
import { ensureJars, jarVersion, javaBin, pomProperty, requireJava } from './java.mjs';
import { logLine, readFrom, run, spawnDetached, stopProcess } from './process-utils.mjs';
import { step } from './errors.mjs';
import { kafkaProbe } from './probes.mjs';

const NAME = 'kafka';
const PORT = 9092;
const CONTROLLER_PORT = 9093;
const PROXIED_PORT = 9094;
/** Fixed cluster id (22-char base64 UUID): storage is formatted once and kept across restarts. */
const CLUSTER_ID = 'T21uaWJ1c0thZmthRGV2MQ';
const STARTED = 'Kafka Server started';

const pom = join(ciDir, 'kafka', 'pom.xml');
const libDir = join(cacheDir, 'kafka-libs');
const dir = dataDir(NAME);
const kraftDir = join(dir, 'kraft');
const props = join(dir, 'server.properties');
const log4j = join(ciDir, 'kafka', 'log4j2.properties');

function writeProperties() {
  const template = readFileSync(join(ciDir, 'kafka', 'server.properties'), 'utf8');
  writeFileSync(props, template.replaceAll('@LOG_DIRS@', kraftDir));
}

const commonJvm = () => [
  '-Djava.awt.headless=true',
  `-Dlog4j2.configurationFile=${log4j}`,
  `-Dkafka.logs.dir=${join(dir, 'logs')}`,
  '-cp',
  `${libDir}/*`,
];

export default {
  name: NAME,
  ports: [PORT, CONTROLLER_PORT, PROXIED_PORT],
  marker: 'kafka.Kafka',
  readyTimeoutMs: 180_000,
  stopTimeoutMs: 60_000,
  brokers: [`${HOST}:${PORT}`],

  version() {
    return jarVersion(libDir, 'kafka_2.13') ?? pomProperty(pom, 'kafka.version');
  },

  async prepare() {
    const log = logFile(NAME);
    await step(NAME, 'check java', () => requireJava(17));
    await step(NAME, 'download jars (mvn)', () => ensureJars(NAME, pom, libDir));
    ensureDir(kraftDir);
    writeProperties();
    if (!existsSync(join(kraftDir, 'meta.properties'))) {
      logLine(log, `formatting KRaft storage in ${kraftDir} (cluster id ${CLUSTER_ID})`);
      await step(NAME, 'format storage (kafka.tools.StorageTool)', () =>
        run(
          javaBin(),
          [
            '-Xmx256m',
            '-XX:TieredStopAtLevel=1',
            ...commonJvm(),
            'kafka.tools.StorageTool',
            'format',
            '-t',
            CLUSTER_ID,
            '-c',
            props,
            '-g',
          ],
          { log, cwd: dir, timeoutMs: 120_000 },
        ),
      );
    }
  },

  async start() {
    const args = [
      '-Xms256m',
      '-Xmx1g',
      '-XX:+UseG1GC',
      '-XX:MaxGCPauseMillis=20',
      '-XX:InitiatingHeapOccupancyPercent=35',
      '-XX:+ExplicitGCInvokesConcurrent',
      // C1 only: measured 10-15 s instead of 18-31 s to "started" on a loaded 2-core box;
      // throughput is ample for tests. Override/extend with OMNIBUS_KAFKA_JVM_OPTS.
      '-XX:TieredStopAtLevel=1',
      ...(process.env.OMNIBUS_KAFKA_JVM_OPTS ?? '').split(/\s+/).filter(Boolean),
      ...commonJvm(),
      'kafka.Kafka',
      props,
    ];
    return spawnDetached(javaBin(), args, { cwd: dir, log: logFile(NAME) });
  },

  /** Bounded Kafka ApiVersions round trip on the client port. */
  probe({ timeoutMs } = {}) {
    return kafkaProbe(HOST, PORT, { timeoutMs });
  },

  /**
   * On a fresh start: the broker logged "Kafka Server started". Always: a metadata request answers
   * and the group coordinator serves requests (right after a restart it first answers
   * NOT_COORDINATOR / COORDINATOR_LOAD_IN_PROGRESS while it reloads __consumer_offsets).
   */
  async ready(ctx) {
    if (ctx?.spawnedPid && !readFrom(logFile(NAME), ctx.logOffset).includes(STARTED)) return false;
    const { Kafka, logLevel } = await import('kafkajs');
    const admin = new Kafka({
      clientId: 'omnibus-brokers-probe',
      brokers: this.brokers,
      logLevel: logLevel.NOTHING,
      connectionTimeout: 1000,
      retry: { retries: 0 },
    }).admin();
    try {
      await admin.connect();
      const cluster = await admin.describeCluster();
      if (cluster.brokers.length === 0) return false;
      const { groups } = await admin.describeGroups(['omnibus-brokers-ready-probe']);
      return groups.length === 1 && groups[0].errorCode === 0;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  },

  /** SIGTERM = controlled shutdown (a few seconds on one node). */
  async stop(pid) {
    return stopProcess(pid, { timeoutMs: this.stopTimeoutMs, group: true });
  },
};
