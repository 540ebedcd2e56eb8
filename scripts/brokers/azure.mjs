// Hook for the in-repo Azure Service Bus emulator (tools/servicebus-emulator, built by
// `npm run build`). AMQP on 127.0.0.1:5673, admin HTTP on 127.0.0.1:5674.
// Entities: .ci/brokers/servicebus-emulator.json. State: .brokers/data/azure/state.json.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ciDir, dataDir, ensureDir, HOST, logFile, repoRoot } from './paths.mjs';
import { readFrom, spawnDetached, stopProcess, tcpProbe } from './process-utils.mjs';
import { amqp10Probe } from './probes.mjs';

const NAME = 'azure';
const PORT = 5673;
const ADMIN_PORT = 5674;
const toolDir = join(repoRoot, 'tools', 'servicebus-emulator');
const cli = join(toolDir, 'dist', 'src', 'cli.js');
const dir = dataDir(NAME);

export default {
  name: NAME,
  ports: [PORT, ADMIN_PORT],
  marker: 'servicebus-emulator',
  readyTimeoutMs: 30_000,
  stopTimeoutMs: 10_000,

  /** null when runnable, else why not. */
  available() {
    return existsSync(cli)
      ? null
      : `the Service Bus emulator is not built (${cli} is missing); build it first with \`npm run build\``;
  },

  version() {
    try {
      return `servicebus-emulator ${JSON.parse(readFileSync(join(toolDir, 'package.json'), 'utf8')).version}`;
    } catch {
      return null;
    }
  },

  async prepare() {
    ensureDir(dir);
  },

  async start() {
    const args = [
      cli,
      '--host',
      HOST,
      '--port',
      String(PORT),
      '--admin-port',
      String(ADMIN_PORT),
      '--config',
      join(ciDir, 'servicebus-emulator.json'),
      '--state',
      join(dir, 'state.json'),
    ];
    return spawnDetached(process.execPath, args, { cwd: dir, log: logFile(NAME) });
  },

  /** Bounded AMQP 1.0 (SASL) protocol header exchange on the AMQP port. */
  probe({ timeoutMs } = {}) {
    return amqp10Probe(HOST, PORT, { timeoutMs });
  },

  /** Fresh start: it printed a line containing "listening"; always: AMQP port accepts TCP. */
  async ready(ctx) {
    if (ctx?.spawnedPid && !readFrom(logFile(NAME), ctx.logOffset).includes('listening')) return false;
    return tcpProbe(HOST, PORT, 1000);
  },

  async stop(pid) {
    return stopProcess(pid, { timeoutMs: this.stopTimeoutMs, group: true });
  },
};
