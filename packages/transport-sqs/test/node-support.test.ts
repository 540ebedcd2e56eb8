import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

// Node 22 and 24 are the supported lines; the AWS SDK warns (9 lines on stderr) on anything older.
// The tests run without the SDK's opt-out variable, so a run on an unsupported node fails here.
describe('sqs on the supported Node.js lines', () => {
  it('runs on a Node.js line the package declares in engines', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      engines: { node: string };
    };
    expect(pkg.engines.node).to.equal('>=22.12');
    expect(Number(process.versions.node.split('.')[0])).to.be.at.least(22);
  });

  it('the AWS SDK prints no Node.js version warning when the transport sends a request', () => {
    const script = `
      import { SQSClient, ListQueuesCommand } from '@aws-sdk/client-sqs';
      const client = new SQSClient({ region: 'us-east-1', endpoint: 'http://127.0.0.1:9', maxAttempts: 1,
        credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
      await client.send(new ListQueuesCommand({})).catch(() => {});
      client.destroy();`;
    const env = { ...process.env };
    delete env['AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED'];
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: new URL('../..', import.meta.url),
      env,
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(child.status, child.stderr).to.equal(0);
    expect(child.stderr).to.not.match(/NodeVersionSupportWarning|AWS SDK/);
  });
});
