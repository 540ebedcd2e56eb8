// The omnibus-outbox command against the real PostgreSQL: migrate, lag, cleanup, and the error
// a missing table gives.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dropSchema, POSTGRES_URL, testPool, uniqueSchema } from './support/database.js';

const cli = fileURLToPath(new URL('../src/cli/omnibus-outbox.js', import.meta.url));
const run = (...args: string[]): { code: number | null; out: string; err: string } => {
  const result = spawnSync(process.execPath, [cli, ...args, '--url', POSTGRES_URL], { encoding: 'utf8' });
  return { code: result.status, out: result.stdout, err: result.stderr };
};

describe('outbox-postgres: the omnibus-outbox command', function () {
  this.timeout(30_000);
  const schema = uniqueSchema('cli');
  after(async () => {
    const pool = testPool(1);
    await dropSchema(pool, schema);
    await pool.end();
  });

  it('names the migrate command when the tables are missing, then migrate creates them (twice is fine)', () => {
    const missing = run('lag', '--schema', schema);
    expect(missing.code).to.equal(1);
    expect(missing.err).to.contain('omnibus-outbox migrate');
    for (let i = 0; i < 2; i++) {
      const migrated = run('migrate', '--schema', schema);
      expect(migrated.code, migrated.err).to.equal(0);
      expect(migrated.out).to.contain(`schema "${schema}"`);
    }
    const lag = run('lag', '--schema', schema);
    expect(JSON.parse(lag.out)).to.deep.equal({ pending: 0, oldestAgeMs: 0 });
    const cleanup = run('cleanup', '--schema', schema, '--retention-ms', '0', '--inbox-retention-ms', '0');
    expect(cleanup.out).to.contain('deleted 0 outbox rows, 0 inbox rows');
  });

  it('refuses to run without a database and without a command', () => {
    const none = spawnSync(process.execPath, [cli, 'migrate'], {
      encoding: 'utf8',
      env: { PATH: process.env['PATH'] ?? '' },
    });
    expect(none.status).to.equal(2);
    expect(none.stderr).to.contain('--url');
    expect(spawnSync(process.execPath, [cli], { encoding: 'utf8' }).status).to.equal(2);
  });
});
