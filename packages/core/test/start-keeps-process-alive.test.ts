import { expect } from 'chai';
import { spawnSync } from 'node:child_process';

// A plain top-level-await script whose transport connects through something that does not hold
// the event loop (an unref'd socket or timer, as amqplib's connect does while it waits): without
// a ref'd handle in start(), Node would find nothing to wait for and exit silently with code 13.
describe('EventBus.start keeps the process alive while connecting', () => {
  it('a top-level-await script waits for a slow, unref-ing connect instead of exiting silently', () => {
    const script = `
      import { createEventBus, InMemoryTransport } from '@omnibus/core';
      const transport = new InMemoryTransport();
      const connect = transport.connect.bind(transport);
      transport.connect = () => new Promise((resolve, reject) => {
        setTimeout(() => connect().then(resolve, reject), 300).unref();
      });
      const bus = createEventBus({ transport });
      await bus.start();
      console.log('started:', bus.status);
      await bus.stop();`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url),
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.stderr).to.equal('');
    expect(child.status, 'exit code (13 = top-level await never settled)').to.equal(0);
    expect(child.stdout).to.equal('started: started\n');
  });
});
