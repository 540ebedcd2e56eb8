// Pure parts: table naming and validation, the DDL text, backoff bounds.
import { expect } from 'chai';
import { ErrorCodes, isOmnibusError } from '@omnibus/core';
import { outboxDdl, outboxTables } from '../src/index.js';
import { backoffDelay, Wakeable } from '../src/relay/backoff.js';

describe('outbox-postgres: tables, DDL and backoff', () => {
  it('quotes schema and prefix and derives distinct advisory lock spaces per table set', () => {
    const a = outboxTables({ schema: 'shop', prefix: 'ob_' });
    expect(a.outbox).to.equal('"shop"."ob_outbox"');
    expect(a.inbox).to.equal('"shop"."ob_inbox"');
    expect(a.channel).to.equal('ob_outbox');
    expect(outboxTables().outbox).to.equal('"public"."omnibus_outbox"');
    expect(a.lockSpace).to.not.equal(outboxTables({ schema: 'shop2', prefix: 'ob_' }).lockSpace);
    expect(a.lockSpace).to.be.within(0, 0x7fffffff);
  });

  it('rejects a schema or prefix that is not a plain lower-case identifier (no SQL injection through names)', () => {
    for (const schema of ['Shop', 'a"b', 'x; drop table y', '', '1abc']) {
      let caught: unknown;
      try {
        outboxTables({ schema });
      } catch (error) {
        caught = error;
      }
      expect(isOmnibusError(caught) && caught.code, schema).to.equal(ErrorCodes.CONFIGURATION_INVALID);
    }
  });

  it('the DDL is idempotent text for all three tables and the notify trigger', () => {
    const ddl = outboxDdl(outboxTables({ schema: 'shop' }));
    for (const part of [
      'CREATE TABLE IF NOT EXISTS "shop"."omnibus_outbox"',
      'CREATE TABLE IF NOT EXISTS "shop"."omnibus_outbox_dead_letter"',
      'CREATE TABLE IF NOT EXISTS "shop"."omnibus_inbox"',
      'CREATE OR REPLACE TRIGGER',
      "pg_notify('omnibus_outbox'",
    ])
      expect(ddl).to.contain(part);
  });

  it('backoff grows from base to the cap and stays within [ceiling/2, ceiling]', () => {
    expect(backoffDelay(1, 100, 30_000, () => 0)).to.equal(50);
    expect(backoffDelay(1, 100, 30_000, () => 1)).to.equal(100);
    expect(backoffDelay(4, 100, 30_000, () => 1)).to.equal(800);
    expect(backoffDelay(40, 100, 30_000, () => 1)).to.equal(30_000);
    expect(backoffDelay(40, 100, 30_000, () => 0)).to.equal(15_000);
  });

  it('a wake before the sleep makes the sleep return at once; a wake during it ends it', async () => {
    const w = new Wakeable();
    w.wake();
    const t0 = Date.now();
    await w.sleep(10_000);
    const sleeping = w.sleep(10_000);
    w.wake();
    await sleeping;
    expect(Date.now() - t0).to.be.below(5000);
  });
});
