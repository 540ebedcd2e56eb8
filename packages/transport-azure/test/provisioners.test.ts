import { expect } from 'chai';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EmulatorProvisioner } from '../src/provisioning/emulator-provisioner.js';
import { fromIsoDuration, toIsoDuration } from '../src/provisioning/entity-provisioner.js';
import { createProvisioner } from '../src/provisioning/create-provisioner.js';
import { AdminClientProvisioner } from '../src/provisioning/admin-client-provisioner.js';
import { resolveAzureOptions } from '../src/azure-options.js';
import { retryFilter, subscriptionFilter } from '../src/azure-service-bus-transport.js';

const CONNECTION =
  'Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=c2VjcmV0';

/** A stand-in for the emulator admin API: an in-memory map of PUT bodies. */
async function fakeAdmin(): Promise<{
  server: Server;
  url: string;
  entities: Map<string, unknown>;
  requests: string[];
}> {
  const entities = new Map<string, unknown>();
  const requests: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const path = decodeURIComponent(req.url ?? '');
      requests.push(`${req.method ?? ''} ${path}`);
      if (req.method === 'PUT') {
        entities.set(path, body === '' ? {} : JSON.parse(body));
        res.writeHead(201, { 'content-type': 'application/json' }).end(body || '{}');
      } else if (entities.has(path)) {
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(entities.get(path)));
      } else {
        res.writeHead(404).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    url: `http://127.0.0.1:${String((server.address() as AddressInfo).port)}/`,
    entities,
    requests,
  };
}

describe('azure provisioners', () => {
  it('emulator provisioner creates missing topics and subscriptions once, with their settings', async () => {
    const admin = await fakeAdmin();
    try {
      const provisioner = new EmulatorProvisioner(admin.url);
      const settings = { requiresSession: true, lockDurationMs: 30000, maxDeliveryCount: 10, sqlFilter: 'x' };
      await provisioner.ensureTopic('orders');
      await provisioner.ensureSubscription('orders', 'billing', settings);
      await provisioner.ensureSubscription('orders', 'billing', settings);
      expect(admin.entities.get('/topics/orders/subscriptions/billing')).to.deep.equal({
        requiresSession: true,
        lockDurationMs: 30000,
        maxDeliveryCount: 10,
        filter: { sqlExpression: 'x' },
      });
      expect(admin.requests.filter((r) => r.startsWith('PUT'))).to.deep.equal([
        'PUT /topics/orders',
        'PUT /topics/orders/subscriptions/billing',
      ]);
    } finally {
      admin.server.close();
    }
  });

  it('emulator provisioner replaces an existing subscription’s rule when the filter changed (push-down)', async () => {
    const admin = await fakeAdmin();
    try {
      const provisioner = new EmulatorProvisioner(admin.url);
      const settings = {
        requiresSession: false,
        lockDurationMs: 30000,
        maxDeliveryCount: 10,
        sqlFilter: 'a',
      };
      await provisioner.ensureSubscription('orders', 'billing', settings);
      await provisioner.ensureSubscription('orders', 'billing', { ...settings, sqlFilter: 'b' });
      await provisioner.ensureSubscription('orders', 'billing', { ...settings, sqlFilter: 'b' });
      expect(admin.entities.get('/topics/orders/subscriptions/billing')).to.deep.include({
        filter: { sqlExpression: 'b' },
      });
      expect(admin.requests.filter((r) => r.startsWith('PUT /topics/orders/subscriptions'))).to.have.length(
        2,
      );
    } finally {
      admin.server.close();
    }
  });

  it('emulator provisioner refuses a session-mode mismatch', async () => {
    const admin = await fakeAdmin();
    try {
      const provisioner = new EmulatorProvisioner(admin.url);
      await provisioner.ensureSubscription('orders', 'audit', {
        requiresSession: false,
        lockDurationMs: 30000,
        maxDeliveryCount: 10,
      });
      const error = await provisioner
        .ensureSubscription('orders', 'audit', {
          requiresSession: true,
          lockDurationMs: 30000,
          maxDeliveryCount: 10,
        })
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect((error as { code: string }).code).to.equal('PROVISIONING_FAILED');
    } finally {
      admin.server.close();
    }
  });

  it('emulator provisioner reports an unreachable admin API as retriable PROVISIONING_FAILED', async () => {
    const admin = await fakeAdmin();
    const url = admin.url;
    await new Promise((resolve) => admin.server.close(resolve));
    const error = await new EmulatorProvisioner(url).ensureTopic('t').then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.include({ code: 'PROVISIONING_FAILED', retriable: true });
  });

  it('selects the provisioner from options', () => {
    expect(createProvisioner(resolveAzureOptions({ connectionString: CONNECTION }))).to.be.instanceOf(
      AdminClientProvisioner,
    );
    expect(
      createProvisioner(resolveAzureOptions({ connectionString: CONNECTION, provisioning: 'emulator' })),
    ).to.be.instanceOf(EmulatorProvisioner);
  });

  it('converts lock durations to and from ISO-8601', () => {
    expect(toIsoDuration(30000)).to.equal('PT30S');
    expect(toIsoDuration(60000)).to.equal('PT1M');
    expect(toIsoDuration(90500)).to.equal('PT1M30.5S');
    expect(fromIsoDuration('PT1M30.5S')).to.equal(90500);
    expect(fromIsoDuration('P1D')).to.equal(86_400_000);
    expect(fromIsoDuration('nope')).to.equal(undefined);
  });

  it('pushes header filters into the rule: originals matching one filter, and the group’s retry copies', () => {
    const r = '[omnibus-retry-subscription]';
    expect(subscriptionFilter('billing', [{ region: 'eu' }, { region: 'ch', tier: "o'k" }])).to.equal(
      `${r} IS NULL AND [region] = 'eu' OR ${r} IS NULL AND [region] = 'ch' AND [tier] = 'o''k' OR ${r} = 'billing'`,
    );
    expect(subscriptionFilter('billing', undefined)).to.equal(retryFilter('billing'));
    expect(subscriptionFilter('billing', [{ 'we[ird]': 'x' }]), 'no push-down').to.equal(
      retryFilter('billing'),
    );
  });

  it('filters other subscriptions’ retry copies with a SQL rule that escapes quotes', () => {
    expect(retryFilter("o'brien")).to.equal(
      "[omnibus-retry-subscription] IS NULL OR [omnibus-retry-subscription] = 'o''brien'",
    );
  });
});
