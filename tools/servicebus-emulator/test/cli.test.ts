import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ServiceBusClient } from '@azure/service-bus';
import { emulatorConnectionString } from '../src/index.js';
import { bodiesOf } from './helpers.js';

const CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url));

interface Started {
  child: ChildProcessWithoutNullStreams;
  amqpPort: number;
  adminPort: number;
  output: () => string;
}

function run(args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [CLI, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no listening line: ${out}`)), 10_000);
    const onData = (): void => {
      const match = /listening amqp=[^\s]+:(\d+) admin=http:\/\/[^\s]+:(\d+)/.exec(out);
      if (match) {
        clearTimeout(timer);
        child.stdout.off('data', onData);
        resolve({ child, amqpPort: Number(match[1]), adminPort: Number(match[2]), output: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited with ${String(code)}: ${out}`));
    });
  });
}

function exited(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('CLI', function () {
  this.timeout(20_000);
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sb-emulator-cli-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("prints a listening line, serves the config's entities, and on SIGTERM exits 0 after writing the state", async () => {
    const config = join(dir, 'entities.json');
    const state = join(dir, 'state.json');
    writeFileSync(config, JSON.stringify({ entities: { queues: [{ name: 'cli-q' }], topics: [] } }));
    const first = await run(['--port', '0', '--admin-port', '0', '--config', config, '--state', state]);
    const health = await fetch(`http://127.0.0.1:${first.adminPort}/health`);
    expect(health.status).to.equal(200);
    const client = new ServiceBusClient(emulatorConnectionString('127.0.0.1', first.amqpPort));
    await client.createSender('cli-q').sendMessages({ body: 'kept across restarts' });
    await client.close();
    first.child.kill('SIGTERM');
    expect(await exited(first.child)).to.equal(0);
    expect(first.output()).to.match(/stopped/);
    expect(existsSync(state)).to.equal(true);

    const second = await run([
      '--port',
      '0',
      '--admin-port',
      '0',
      '--config',
      config,
      '--state',
      state,
      '--quiet',
    ]);
    const client2 = new ServiceBusClient(emulatorConnectionString('127.0.0.1', second.amqpPort));
    const receiver = client2.createReceiver('cli-q', { receiveMode: 'receiveAndDelete' });
    const messages = await receiver.receiveMessages(1, { maxWaitTimeInMs: 5000 });
    expect(bodiesOf(messages)).to.deep.equal(['kept across restarts']);
    await client2.close();
    second.child.kill('SIGINT');
    expect(await exited(second.child)).to.equal(0);
  });

  it('refuses a non-loopback host without --allow-remote', async () => {
    const child = spawn(process.execPath, [CLI, '--host', '0.0.0.0', '--port', '0', '--admin-port', '0']);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).to.not.equal(0);
    expect(err).to.match(/non-loopback/);
  });

  it('rejects unknown arguments with usage', async () => {
    const child = spawn(process.execPath, [CLI, '--bogus']);
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).to.equal(2);
    expect(err).to.match(/usage/);
  });
});
