// SNS (with its own SQS) emulated by fauxqs from npm, for SNS -> SQS fan-out in the SQS adapter.
// fauxqs 2.x needs Node >= 22.5 (node:sqlite); the repo runs Node 20, so a Node 22 binary is
// installed from npm next to it (package node-<platform>-<arch>) in .brokers/cache/fauxqs.
// Port 4566 on 127.0.0.1; in memory (OMNIBUS_FAUXQS_PERSIST=1 persists to SQLite under .brokers/data/sns).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cacheDir, dataDir, ensureDir, HOST, logFile } from './paths.mjs';
import { httpGet, logLine, run, spawnDetached, stopProcess } from './process-utils.mjs';
import { step } from './errors.mjs';
import { httpProbe } from './probes.mjs';

const NAME = 'sns';
const PORT = 4566;
const FAUXQS = '2.4.1';
const NODE = '22.23.3';
const nodePkg = `node-${process.platform}-${process.arch}`;

const home = join(cacheDir, 'fauxqs');
const nodeBin = join(home, 'node_modules', nodePkg, 'bin', 'node');
const fauxqsPkg = join(home, 'node_modules', 'fauxqs', 'package.json');
const launcher = new URL('./fauxqs-server.mjs', import.meta.url).pathname;
const dir = dataDir(NAME);

function installedVersion() {
  try {
    return JSON.parse(readFileSync(fauxqsPkg, 'utf8')).version;
  } catch {
    return null;
  }
}

export default {
  name: NAME,
  ports: [PORT],
  marker: 'fauxqs-server.mjs',
  readyTimeoutMs: 60_000,
  stopTimeoutMs: 10_000,
  endpoint: `http://${HOST}:${PORT}`,
  region: 'us-east-1',

  version() {
    const v = installedVersion() ?? FAUXQS;
    return `fauxqs ${v}`;
  },

  async prepare() {
    if (installedVersion() === FAUXQS && existsSync(nodeBin)) return;
    const log = logFile(NAME);
    ensureDir(home);
    // A package.json of its own so npm never walks up into the repo's workspace root.
    writeFileSync(
      join(home, 'package.json'),
      `${JSON.stringify({ name: 'omnibus-fauxqs-runtime', private: true }, null, 2)}\n`,
    );
    logLine(log, `installing fauxqs@${FAUXQS} and ${nodePkg}@${NODE} into ${home}`);
    await step(NAME, `install fauxqs + Node 22 (npm)`, () =>
      run(
        'npm',
        [
          'install',
          '--prefix',
          home,
          '--prefer-offline',
          '--no-audit',
          '--no-fund',
          '--save-exact',
          '--engine-strict=false',
          `fauxqs@${FAUXQS}`,
          `${nodePkg}@${NODE}`,
        ],
        { cwd: home, log, timeoutMs: 10 * 60_000 },
      ),
    );
    if (!existsSync(nodeBin)) throw new Error(`${nodePkg}@${NODE} did not provide ${nodeBin}`);
  },

  async start() {
    ensureDir(dir);
    const env = {
      ...process.env,
      FAUXQS_MODULE: join(home, 'node_modules', 'fauxqs', 'dist', 'app.js'),
      FAUXQS_PORT: String(PORT),
      FAUXQS_BIND: HOST,
      // Persistence is opt-in: fauxqs 2.4.1 with SQLite persistence answers HTTP 500 to
      // ChangeMessageVisibility(0) (NOT NULL constraint on approximate_receive_count) and loses
      // the message until restart. No test restarts fauxqs, so we run it in memory by default.
      ...(process.env.OMNIBUS_FAUXQS_PERSIST === '1' ? { FAUXQS_DATA_DIR: dir } : {}),
      FAUXQS_DEFAULT_REGION: this.region,
    };
    return spawnDetached(nodeBin, ['--disable-warning=ExperimentalWarning', launcher], {
      env,
      cwd: dir,
      log: logFile(NAME),
    });
  },

  /** Bounded HTTP GET /health. */
  probe({ timeoutMs } = {}) {
    return httpProbe(HOST, PORT, '/health', { timeoutMs });
  },

  async ready() {
    const res = await httpGet(`${this.endpoint}/health`, 1000);
    return res.status === 200;
  },

  async stop(pid) {
    return stopProcess(pid, { timeoutMs: this.stopTimeoutMs, group: true });
  },
};
