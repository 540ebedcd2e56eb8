import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ServiceBusClient, ServiceBusReceiver } from '@azure/service-bus';
import type { RunningEmulator } from '../src/index.js';
import { compileSqlFilter, type FilterView } from '../src/subscription-filter.js';
import {
  admin,
  bodiesOf,
  countsOf,
  createTopic,
  newClient,
  receiveN,
  startTestEmulator,
  useEmulator,
  waitFor,
} from './helpers.js';

/** The retry rule of the Omnibus Azure adapter, for subscription `sub`. */
const retryRule = (sub: string): { sqlExpression: string } => ({
  sqlExpression: `[omnibus-retry-subscription] IS NULL OR [omnibus-retry-subscription] = '${sub}'`,
});

/** Receive everything currently in a subscription (waits up to `waitMs` for more). */
async function drainBodies(receiver: ServiceBusReceiver, waitMs = 300): Promise<unknown[]> {
  const out: unknown[] = [];
  for (;;) {
    const batch = await receiver.receiveMessages(20, { maxWaitTimeInMs: waitMs });
    if (batch.length === 0) return out.sort();
    out.push(...bodiesOf(batch));
    await Promise.all(batch.map((m) => receiver.completeMessage(m)));
  }
}

describe('subscription rules (filters)', function () {
  this.timeout(20_000);
  let emulator: RunningEmulator;
  let client: ServiceBusClient;

  useEmulator((started, connected) => {
    emulator = started;
    client = connected;
  });

  it('a correlation filter on application properties copies only matching messages; a subscription without one gets all', async () => {
    const topic = await createTopic(emulator, {
      red: { filter: { correlationFilter: { properties: { color: 'red', size: 2 } } } },
      all: {},
    });
    await client
      .createSender(topic)
      .sendMessages([
        { body: 'red-2', applicationProperties: { color: 'red', size: 2 } },
        { body: 'red-3', applicationProperties: { color: 'red', size: 3 } },
        { body: 'red-text-2', applicationProperties: { color: 'red', size: '2' } },
        { body: 'blue-2', applicationProperties: { color: 'blue', size: 2 } },
        { body: 'none' },
      ]);
    expect(await drainBodies(client.createReceiver(topic, 'red'))).to.deep.equal(['red-2']);
    expect(await drainBodies(client.createReceiver(topic, 'all'))).to.have.length(5);
  });

  it('a correlation filter on system properties needs every given one to match', async () => {
    const topic = await createTopic(emulator, {
      orders: {
        filter: {
          correlationFilter: {
            subject: 'order-placed',
            correlationId: 'c-1',
            contentType: 'application/json',
          },
        },
      },
    });
    await client.createSender(topic).sendMessages([
      { body: 'match', subject: 'order-placed', correlationId: 'c-1', contentType: 'application/json' },
      { body: 'other-subject', subject: 'order-paid', correlationId: 'c-1', contentType: 'application/json' },
      { body: 'no-correlation', subject: 'order-placed', contentType: 'application/json' },
    ]);
    expect(await drainBodies(client.createReceiver(topic, 'orders'))).to.deep.equal(['match']);
  });

  it("the adapter's retry rule: plain messages reach every subscription, a retry copy only its target, also when scheduled", async () => {
    const topic = await createTopic(emulator, {
      billing: { filter: retryRule('billing') },
      shipping: { filter: retryRule('shipping') },
      'no-rule': {},
    });
    const sender = client.createSender(topic);
    await sender.sendMessages([
      { body: 'plain' },
      { body: 'for-billing', applicationProperties: { 'omnibus-retry-subscription': 'billing' } },
    ]);
    await sender.scheduleMessages(
      [
        {
          body: 'scheduled-for-shipping',
          applicationProperties: { 'omnibus-retry-subscription': 'shipping' },
        },
      ],
      new Date(Date.now() + 300),
    );
    const shipping = client.createReceiver(topic, 'shipping');
    const [scheduled] = await waitFor(async () => {
      const got = await shipping.peekMessages(5);
      return got.some((m) => m.body === 'scheduled-for-shipping') ? got : undefined;
    });
    expect(scheduled).to.not.equal(undefined);
    expect(await drainBodies(client.createReceiver(topic, 'billing'))).to.deep.equal([
      'for-billing',
      'plain',
    ]);
    expect(await drainBodies(shipping)).to.deep.equal(['plain', 'scheduled-for-shipping']);
    expect(await drainBodies(client.createReceiver(topic, 'no-rule'))).to.deep.equal([
      'for-billing',
      'plain',
      'scheduled-for-shipping',
    ]);
  });

  it('the admin API shows, replaces and validates filters (subscriptions only, the SQL subset only)', async () => {
    const topic = await createTopic(emulator, { s: { filter: retryRule('s') } });
    const path = `/topics/${topic}/subscriptions/s`;
    expect((await admin(emulator, 'GET', path)).body.options?.filter).to.deep.equal(retryRule('s'));
    // PUT on an existing subscription replaces the rule, like replacing Service Bus's $Default rule.
    const replaced = await admin(emulator, 'PUT', path, { filter: { correlationFilter: { subject: 'x' } } });
    expect(replaced.status).to.equal(200);
    expect(replaced.body.options?.filter).to.deep.equal({ correlationFilter: { subject: 'x' } });
    await client.createSender(topic).sendMessages([
      { body: 'x', subject: 'x' },
      { body: 'y', subject: 'y' },
    ]);
    await waitFor(async () => ((await countsOf(emulator, path)).active === 1 ? true : undefined));

    const bad = async (body: unknown, where = path): Promise<string> => {
      const res = await admin(emulator, 'PUT', where, body);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      return (res.body.problems ?? []).join('; ');
    };
    expect(await bad({ filter: { sqlExpression: "subject LIKE 'a%'" } })).to.contain('LIKE');
    expect(await bad({ filter: { sqlExpression: "sys.Nope = 'a'" } })).to.contain('sys.Nope');
    expect(await bad({ filter: { sqlExpression: "(a = 'b')" } })).to.contain('unsupported character');
    expect(await bad({ filter: { correlationFilter: {} } })).to.contain('at least one condition');
    expect(await bad({ filter: { correlationFilter: { label: 'x' } } })).to.contain('not supported');
    expect(await bad({ filter: { correlationFilter: { properties: { a: [1] } } } })).to.contain('properties');
    expect(await bad({ filter: { sqlFilter: 'x' } })).to.contain('correlationFilter');
    expect(await bad({ filter: { sqlExpression: '1=1' } }, '/queues/q-with-filter')).to.contain(
      'only subscriptions have filters',
    );
  });

  it('filters survive a restart through the state snapshot', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sb-emulator-filter-'));
    const statePath = join(dir, 'state.json');
    try {
      const first = await startTestEmulator({ statePath });
      await admin(first, 'PUT', '/topics/t');
      await admin(first, 'PUT', '/topics/t/subscriptions/only-red', {
        filter: { correlationFilter: { properties: { color: 'red' } } },
      });
      await first.stop();
      const second = await startTestEmulator({ statePath });
      const c = newClient(second);
      try {
        await c.createSender('t').sendMessages([
          { body: 'red', applicationProperties: { color: 'red' } },
          { body: 'blue', applicationProperties: { color: 'blue' } },
        ]);
        const got = await receiveN(c.createReceiver('t', 'only-red'), 1);
        expect(bodiesOf(got)).to.deep.equal(['red']);
        expect(await countsOf(second, '/topics/t/subscriptions/only-red')).to.include({ active: 1 });
      } finally {
        await c.close();
        await second.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('unit: SQL filter subset', () => {
  const view = (properties: Record<string, unknown>, system: Record<string, string> = {}): FilterView => ({
    properties,
    system,
  });

  it('IS NULL / IS NOT NULL, = and <> with SQL three-valued logic (a missing property never matches a comparison)', () => {
    const rule = compileSqlFilter(retryRule('billing').sqlExpression);
    expect(rule(view({}))).to.equal(true);
    expect(rule(view({ 'omnibus-retry-subscription': 'billing' }))).to.equal(true);
    expect(rule(view({ 'omnibus-retry-subscription': 'shipping' }))).to.equal(false);
    expect(compileSqlFilter("a <> 'x'")(view({}))).to.equal(false);
    expect(compileSqlFilter("a != 'x'")(view({ a: 'y' }))).to.equal(true);
    expect(compileSqlFilter('"a" IS NOT NULL')(view({ a: 1 }))).to.equal(true);
    expect(compileSqlFilter('user.a IS NULL')(view({ a: null }))).to.equal(true);
  });

  it('AND binds tighter than OR; keywords and sys. names are case-insensitive; values keep their type', () => {
    const rule = compileSqlFilter("a = 1 or b = 'x' AND sys.label = 'L'");
    expect(rule(view({ a: 1 }))).to.equal(true);
    expect(rule(view({ b: 'x' }, { label: 'L' }))).to.equal(true);
    expect(rule(view({ b: 'x' }, { label: 'M' }))).to.equal(false);
    expect(rule(view({ a: '1' }))).to.equal(false);
    expect(compileSqlFilter('flag = TRUE')(view({ flag: true }))).to.equal(true);
    expect(compileSqlFilter('1=1')(view({}))).to.equal(true);
    expect(compileSqlFilter('1=0')(view({}))).to.equal(false);
    expect(compileSqlFilter("[it's] = 'o''k'")(view({ "it's": "o'k" }))).to.equal(true);
    expect(compileSqlFilter('[a]]b] = -2.5')(view({ 'a]b': -2.5 }))).to.equal(true);
  });

  it('rejects everything outside the subset, naming what it supports', () => {
    for (const expression of [
      '',
      'NOT a IS NULL',
      'a IN (1, 2)',
      'EXISTS(a)',
      'a > 1',
      'a = b = c',
      "'x' IS NULL",
      'a =',
    ]) {
      expect(() => compileSqlFilter(expression), expression).to.throw(/the emulator supports/);
    }
  });
});
