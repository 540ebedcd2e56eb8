import { expect } from 'chai';
import { spawnSync } from 'node:child_process';

// With default options, stopping a bus whose SQS long poll is in flight takes at most about one
// long poll (waitTimeSeconds, 5 s by default), and the process exits as soon as stop() resolves.
describe('sqs stop() timing with default options', () => {
  it('bus.stop() resolves within one default long poll and nothing holds the process afterwards', function () {
    this.timeout(60_000);
    const script = `
      import { createEventBus, defineEvent, EventHandler, loadConfigFromEnv } from '@omnibus/core';
      const Ping = defineEvent('sqs-stop-timing.v1');
      class Pong { handle() {} }
      EventHandler(Ping, { group: 'stop-timing' })(Pong.prototype, 'handle', {});
      const bus = createEventBus({ ...loadConfigFromEnv(), handlers: [Pong] });
      await bus.start();
      await new Promise((resolve) => setTimeout(resolve, 500)); // a long poll is now in flight
      const stopping = Date.now();
      await bus.stop();
      const stopped = Date.now();
      process.on('exit', () => console.log(JSON.stringify({ stopMs: stopped - stopping, exitMs: Date.now() - stopped })));`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url),
      env: {
        // Only this configuration: other tests of the stage export OMNIBUS_SQS_TEST_* variables.
        ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('OMNIBUS_'))),
        OMNIBUS_TRANSPORT: 'sqs',
        OMNIBUS_SQS_ENDPOINT: 'http://127.0.0.1:9324',
        OMNIBUS_SQS_REGION: 'us-east-1',
        OMNIBUS_SQS_ACCESS_KEY_ID: 'local',
        OMNIBUS_SQS_SECRET_ACCESS_KEY: 'local',
        OMNIBUS_SQS_FAN_OUT: 'none',
        OMNIBUS_SQS_QUEUE_PREFIX: `stop${String(process.pid)}-`,
      },
      encoding: 'utf8',
      timeout: 50_000,
    });
    expect(child.status, child.stderr).to.equal(0);
    const { stopMs, exitMs } = JSON.parse(child.stdout) as { stopMs: number; exitMs: number };
    expect(stopMs, 'stop() duration, ms').to.be.below(5_000 + 1_500);
    expect(exitMs, 'process lifetime after stop() resolved, ms').to.be.below(500);
  });
});
