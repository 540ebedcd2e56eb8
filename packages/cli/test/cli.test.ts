import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser } from '@asyncapi/parser';
import { expect } from 'chai';
import { SHOP_CONFIG, runBin } from './support/run-bin.js';

// Every case runs the compiled `omnibus` bin in a child process; none needs a broker.
describe('omnibus CLI (no broker)', function () {
  this.timeout(60_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'omnibus-cli-'));

  describe('usage', function () {
    it('prints the help with exit 0, and exits 2 on an unknown command or option', async function () {
      const help = await runBin(['--help']);
      expect(help.code).to.equal(0);
      for (const command of ['doctor', 'check', 'dlq', 'topology', 'asyncapi'])
        expect(help.stdout).to.contain(`omnibus ${command}`);
      const unknown = await runBin(['frobnicate']);
      expect(unknown.code).to.equal(2);
      expect(unknown.stderr).to.contain('unknown command "frobnicate"');
      const badOption = await runBin(['check', '--against', 'kafka', '--nope']);
      expect(badOption.code).to.equal(2);
      expect(badOption.stderr).to.match(/Unknown option '--nope'/);
      const missing = await runBin(['dlq', 'list', '--group', 'g']);
      expect(missing.code).to.equal(2);
      expect(missing.stderr).to.contain('--destination is required');
    });
  });

  describe('check --against', function () {
    it('names each transport a handler cannot start on, and why (exit 1)', async function () {
      const run = await runBin([
        'check',
        '--config',
        SHOP_CONFIG,
        '--against',
        'rabbitmq,kafka,azure,sqs,sqs:fifo,sqs:queues-fifo',
      ]);
      expect(run.code, run.stderr).to.equal(1);
      const line = (name: string): string =>
        run.stdout.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
      for (const ok of ['rabbitmq', 'kafka', 'azure', 'sqs:fifo']) expect(line(ok), ok).to.match(/\bok\b/);
      expect(line('sqs')).to.contain(
        'BillingHandler.charge is ordered, but transport "sqs" has no per-key ordering',
      );
      expect(line('sqs:queues-fifo')).to.contain('consumed by 2 groups (analytics, billing)');
    });

    it('exits 0 when every handler fits, and reports as JSON', async function () {
      const run = await runBin(['check', '--config', SHOP_CONFIG, '--against', 'rabbitmq,kafka', '--json']);
      expect(run.code, run.stderr).to.equal(0);
      const report = JSON.parse(run.stdout) as {
        ok: boolean;
        verdicts: { transport: string; ok: boolean }[];
        handlers: unknown[];
      };
      expect(report.ok).to.equal(true);
      expect(report.verdicts.map((v) => v.transport)).to.deep.equal(['rabbitmq', 'kafka']);
      expect(report.handlers).to.have.length(3);
    });

    it('--lock writes a lockfile that --locked accepts unchanged and rejects after a change', async function () {
      const lock = path.join(dir, 'omnibus.lock.json');
      expect(
        (await runBin(['check', '--config', SHOP_CONFIG, '--against', 'rabbitmq,sqs:fifo', '--lock', lock]))
          .code,
      ).to.equal(0);
      const same = await runBin([
        'check',
        '--config',
        SHOP_CONFIG,
        '--against',
        'rabbitmq,sqs:fifo',
        '--locked',
        lock,
      ]);
      expect(same.code, same.stdout).to.equal(0);
      const data = JSON.parse(readFileSync(lock, 'utf8')) as { handlers: { maxAttempts: number }[] };
      (data.handlers[0] as { maxAttempts: number }).maxAttempts = 99;
      writeFileSync(lock, JSON.stringify(data));
      const drift = await runBin([
        'check',
        '--config',
        SHOP_CONFIG,
        '--against',
        'rabbitmq,sqs:fifo',
        '--locked',
        lock,
      ]);
      expect(drift.code).to.equal(1);
      expect(drift.stdout).to.match(
        /lockfile drift: needs of AnalyticsHandler\.count shop\.order-placed\.v1 changed/,
      );
    });
  });

  describe('doctor (in-memory)', function () {
    it('reports capabilities, handlers and the missing topology of a fresh broker, exit 1, also as JSON', async function () {
      const run = await runBin(['doctor', '--config', SHOP_CONFIG, '--json']);
      expect(run.code).to.equal(1);
      const report = JSON.parse(run.stdout) as {
        ok: boolean;
        transport: string;
        capabilities: { deadLetterStore: boolean };
        handlers: { handler: string; group: string; ordered: boolean }[];
        findings: { code: string }[];
      };
      expect(report.transport).to.equal('in-memory');
      expect(report.capabilities.deadLetterStore).to.equal(true);
      expect(report.handlers.map((h) => `${h.handler}/${h.group}/${String(h.ordered)}`)).to.deep.equal([
        'AnalyticsHandler.count/analytics/false',
        'AnalyticsHandler.shipped/analytics/false',
        'BillingHandler.charge/billing/true',
      ]);
      expect(report.findings.map((f) => f.code)).to.include('TOPOLOGY_MISSING');
    });

    it('reports every configuration problem with its fix (unknown transport, bad option), exit 1', async function () {
      const run = await runBin(['doctor', '--config', SHOP_CONFIG], { env: { OMNIBUS_TRANSPORT: 'nope' } });
      expect(run.code).to.equal(1);
      expect(run.stdout).to.contain('[TRANSPORT_UNKNOWN] unknown transport "nope"');
      expect(run.stdout).to.contain('fix: install @omnibus/transport-nope');
      const bad = await runBin(['doctor'], {
        env: { OMNIBUS_TRANSPORT: 'rabbitmq', OMNIBUS_RABBITMQ_PREFETCH_COUNT: 'lots' },
      });
      expect(bad.code).to.equal(1);
      expect(bad.stdout).to.match(/CONFIGURATION_INVALID\] rabbitmq: transport\.options\.prefetchCount/);
    });

    it('refuses a module without a `config` export with a clear problem', async function () {
      const module = path.join(dir, 'empty.mjs');
      writeFileSync(module, 'export const nothing = 1;\n');
      const run = await runBin(['asyncapi', '--config', module]);
      expect(run.code).to.equal(1);
      expect(run.stderr).to.contain('has no `config` export');
    });
  });

  describe('asyncapi', function () {
    it('generates an AsyncAPI 3.0 document the official parser accepts without errors or warnings', async function () {
      const run = await runBin([
        'asyncapi',
        '--config',
        SHOP_CONFIG,
        '--title',
        'Shop',
        '--version',
        '1.2.0',
      ]);
      expect(run.code, run.stderr).to.equal(0);
      const { document, diagnostics } = await new Parser().parse(run.stdout);
      const serious = diagnostics
        .filter((d) => [0, 1].includes(Number(d.severity)))
        .map((d) => `${d.code}: ${d.message} at ${d.path.join('.')}`);
      expect(serious, serious.join('\n')).to.deep.equal([]);
      expect(document, 'parsed document').to.not.equal(undefined);
      const doc = JSON.parse(run.stdout) as {
        asyncapi: string;
        channels: Record<string, { address: string }>;
        operations: Record<string, { action: string }>;
        components: {
          messages: Record<
            string,
            { payload?: { properties?: Record<string, { maxLength?: number; enum?: string[] }> } }
          >;
        };
      };
      expect(doc.asyncapi).to.equal('3.0.0');
      expect(
        Object.values(doc.channels)
          .map((c) => c.address)
          .sort(),
      ).to.deep.equal(['shop.order-placed.v1', 'shop.order-shipped.v1']);
      expect(Object.keys(doc.operations).sort()).to.deep.equal([
        'receive.analytics.shop.order-placed.v1',
        'receive.analytics.shop.order-shipped.v1',
        'receive.billing.shop.order-placed.v1',
        'send.shop.order-placed.v1',
        'send.shop.order-shipped.v1',
      ]);
      const placed = doc.components.messages['shop.order-placed.v1']?.payload?.properties;
      expect(placed?.['orderId']?.maxLength, 'payload schema from zod').to.equal(36);
      expect(
        doc.components.messages['shop.order-shipped.v1']?.payload?.properties?.['carrier']?.enum,
      ).to.deep.equal(['ups', 'dhl']);
    });

    it("keeps docs/guides/demo.asyncapi.json equal to the demo's generated document", async function () {
      const demoConfig = fileURLToPath(
        new URL('../../../../examples/ecommerce/dist/src/omnibus-config.js', import.meta.url),
      );
      const committed = fileURLToPath(new URL('../../../../docs/guides/demo.asyncapi.json', import.meta.url));
      const run = await runBin(
        ['asyncapi', '--config', demoConfig, '--title', 'Omnibus demo shop', '--version', '0.1.0'],
        {
          env: { OMNIBUS_TRANSPORT: 'rabbitmq' },
        },
      );
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout, 'regenerate it with the command in docs/guides/cli.md').to.equal(
        readFileSync(committed, 'utf8'),
      );
    });

    it('--check passes against itself and a new event, and fails on a breaking payload change', async function () {
      const current = path.join(dir, 'current.json');
      expect((await runBin(['asyncapi', '--config', SHOP_CONFIG, '--out', current])).code).to.equal(0);
      const same = await runBin(['asyncapi', '--config', SHOP_CONFIG, '--check', current]);
      expect(same.code, same.stdout).to.equal(0);
      expect(same.stdout).to.contain('no breaking change');
      const doc = JSON.parse(readFileSync(current, 'utf8')) as {
        components: {
          messages: Record<string, { payload: { properties: Record<string, unknown>; required: string[] } }>;
        };
      };
      const olderWithoutShipped = structuredClone(doc);
      delete olderWithoutShipped.components.messages['shop.order-shipped.v1'];
      const older = path.join(dir, 'older.json');
      writeFileSync(older, JSON.stringify(olderWithoutShipped));
      const added = await runBin(['asyncapi', '--config', SHOP_CONFIG, '--check', older]);
      expect(added.code, added.stdout).to.equal(0);
      expect(added.stdout).to.contain('✔ compatible  shop.order-shipped.v1: new event');
      const released = structuredClone(doc);
      const placed = released.components.messages['shop.order-placed.v1'];
      if (placed === undefined) throw new Error('no shop.order-placed.v1 message');
      placed.payload.properties['currency'] = { type: 'string' };
      placed.payload.required.push('currency');
      const previous = path.join(dir, 'previous.json');
      writeFileSync(previous, JSON.stringify(released));
      const breaking = await runBin(['asyncapi', '--config', SHOP_CONFIG, '--check', previous]);
      expect(breaking.code, breaking.stdout).to.equal(1);
      expect(breaking.stdout).to.contain('✖ breaking  shop.order-placed.v1: currency: property removed');
      expect(breaking.stdout).to.contain('publish changed payloads under a new event name');
    });
  });
});
