import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { startEmulator } from '@omnibus/servicebus-emulator';
import type { RunningEmulator } from '@omnibus/servicebus-emulator';
import type { Delivery, MessageEnvelope, OutgoingMessage, Subscription, Transport } from '@omnibus/core';
import { waitFor } from '@omnibus/core/testing';
import { AzureServiceBusTransport } from '../src/azure-service-bus-transport.js';
import type { AzureServiceBusOptionsInput } from '../src/azure-options.js';
import { subscriptionName, topicName } from '../src/entity-names.js';
import { NativeServiceBus } from './support/native-client.js';

/**
 * Adapter specifics the shared contract suite does not look at: native Service Bus fields,
 * sessions and in-place ordered retries, lock renewal for long handlers, scheduled retry
 * copies, native dead-lettering, size limits and close. Runs against an in-process emulator
 * (tools/servicebus-emulator) through the real `@azure/service-bus` SDK.
 */
describe('azure service bus transport (emulator, adapter specifics)', function () {
  this.timeout(60_000);
  let emulator: RunningEmulator;
  let native: NativeServiceBus;
  const transports: Transport[] = [];

  before(async () => {
    emulator = await startEmulator({ port: 0, adminPort: 0 });
    native = new NativeServiceBus(emulator.connectionString);
  });

  afterEach(async () => {
    await Promise.all(transports.splice(0).map((t) => t.close(2_000)));
  });

  after(async () => {
    await native.close();
    await emulator.stop();
  });

  async function transport(
    options: Partial<AzureServiceBusOptionsInput> = {},
  ): Promise<AzureServiceBusTransport> {
    const t = new AzureServiceBusTransport({
      connectionString: emulator.connectionString,
      provisioning: 'emulator',
      emulatorAdminUrl: emulator.adminUrl,
      sessionAcceptTimeoutMs: 2_000,
      ...options,
    });
    transports.push(t);
    await t.connect();
    return t;
  }

  function unique(label: string): string {
    return `az-${label}-${randomUUID().slice(0, 8)}`;
  }

  function envelope(text: string, extra: Partial<MessageEnvelope> = {}): MessageEnvelope {
    return {
      id: randomUUID(),
      type: 'tests.azure.v1',
      payload: new TextEncoder().encode(text),
      contentType: 'text/plain',
      headers: {},
      occurredAt: new Date(),
      ...extra,
    };
  }

  const text = (d: Delivery): string => new TextDecoder().decode(d.envelope.payload);

  it('pushes header filters into the subscription rule, also of an existing subscription, and takes them out again', async () => {
    const t = await transport();
    expect(t.capabilities.headerFilters).to.equal('broker');
    const destination = unique('filters');
    const plain = { name: 'g', ordered: false };
    const filtered = { ...plain, headerFilters: [{ region: 'eu' }, { region: 'ch', tier: 'gold' }] };
    // First provisioned without a filter (an earlier deploy), then with one.
    await t.provision({ destinations: [{ name: destination, groups: [plain] }] });
    await t.provision({ destinations: [{ name: destination, groups: [filtered] }] });
    const send = (headers: Record<string, string>): Promise<void> =>
      t.publish(destination, [{ envelope: envelope('x', { headers }) }]);
    for (const headers of [
      { region: 'eu' },
      { region: 'us' },
      { region: 'ch', tier: 'gold' },
      { region: 'ch' },
      { region: 'EU', tier: 'gold' },
      {},
    ])
      await send(headers);
    const waiting = async (): Promise<number> => (await t.readBacklog?.(destination, 'g'))?.messages ?? -1;
    expect(await waiting(), 'messages the filtered subscription kept').to.equal(2);
    await t.provision({ destinations: [{ name: destination, groups: [plain] }] });
    await send({ region: 'us' });
    expect(await waiting(), 'after the filter was removed').to.equal(3);
  });

  it('maps the envelope onto native message fields and application properties', async () => {
    const t = await transport();
    const destination = unique('native');
    await t.provision({ destinations: [{ name: destination, groups: [{ name: 'probe', ordered: false }] }] });
    const sent = envelope('hello', {
      correlationId: 'corr-1',
      causationId: 'cause-1',
      partitionKey: 'key-1',
      headers: { traceparent: '00-1-2-01' },
    });
    await t.publish(destination, [{ envelope: sent }]);
    const [message] = await waitFor(async () => {
      const got = await native.drain(topicName('', destination), 'probe');
      return got.length > 0 ? got : undefined;
    });
    expect(message?.messageId).to.equal(sent.id);
    expect(message?.correlationId).to.equal('corr-1');
    expect(message?.contentType).to.equal('text/plain');
    expect(message?.subject).to.equal('tests.azure.v1');
    expect(message?.sessionId).to.equal('key-1');
    expect(message?.applicationProperties).to.include({
      'ce-id': sent.id,
      'ce-type': 'tests.azure.v1',
      'omnibus-causation-id': 'cause-1',
      'omnibus-partition-key': 'key-1',
      traceparent: '00-1-2-01',
    });
  });

  it('keeps per-key order through sessions, including in-place retries, within the concurrency limit', async () => {
    const t = await transport();
    const destination = unique('order');
    await t.provision({
      destinations: [{ name: destination, groups: [{ name: 'ordered', ordered: true }] }],
    });
    const keys = ['a', 'b', 'c'];
    const perKey = 6;
    const handled = new Map<string, string[]>();
    const runningKeys = new Set<string>();
    let running = 0;
    let maxRunning = 0;
    let overlap = false;
    const failedOnce = new Set<string>();
    const sub = await t.subscribe(
      { destination, group: 'ordered', concurrency: 2, ordered: true, handlerTimeoutMs: 10_000 },
      async (d) => {
        const key = d.envelope.partitionKey ?? '';
        if (runningKeys.has(key)) overlap = true;
        runningKeys.add(key);
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running -= 1;
        runningKeys.delete(key);
        const body = text(d);
        // The 3rd message of each key fails once: it must be retried before the 4th is handled.
        if (body.endsWith('-2') && !failedOnce.has(body)) {
          failedOnce.add(body);
          expect(d.deliveryAttempt).to.equal(1);
          await d.retry(200);
          return;
        }
        handled.set(key, [...(handled.get(key) ?? []), `${body}@${String(d.deliveryAttempt)}`]);
        await d.ack();
      },
    );
    const messages: OutgoingMessage[] = [];
    for (let i = 0; i < perKey; i += 1) {
      for (const key of keys)
        messages.push({ envelope: envelope(`${key}-${String(i)}`, { partitionKey: key }) });
    }
    await t.publish(destination, messages);
    await waitFor(() => keys.every((k) => (handled.get(k)?.length ?? 0) === perKey), { timeoutMs: 30_000 });
    await sub.close(2_000);
    for (const key of keys) {
      expect(handled.get(key)).to.deep.equal(
        Array.from({ length: perKey }, (_, i) => `${key}-${String(i)}@${i === 2 ? '2' : '1'}`),
      );
    }
    expect(overlap, 'one key handled twice at once').to.equal(false);
    expect(maxRunning).to.be.at.most(2);
  });

  it('renews message locks while a handler runs longer than the lock duration', async () => {
    const t = await transport({ lockDurationMs: 5_000 });
    const destination = unique('renew');
    const groups = ['slow', 'slow-ordered'];
    await t.provision({
      destinations: [
        {
          name: destination,
          groups: [
            { name: 'slow', ordered: false },
            { name: 'slow-ordered', ordered: true },
          ],
        },
      ],
    });
    const attempts: string[] = [];
    const acked: string[] = [];
    const slow = async (d: Delivery): Promise<void> => {
      attempts.push(`${d.group}@${String(d.deliveryAttempt)}`);
      await new Promise((resolve) => setTimeout(resolve, 7_500));
      await d.ack();
      acked.push(d.group);
    };
    const subs = await Promise.all(
      groups.map((group) =>
        t.subscribe(
          {
            destination,
            group,
            concurrency: 1,
            ordered: group.endsWith('ordered'),
            handlerTimeoutMs: 10_000,
          },
          slow,
        ),
      ),
    );
    await t.publish(destination, [{ envelope: envelope('long', { partitionKey: 'k' }) }]);
    // ack() rejects with SETTLEMENT_FAILED if the lock was lost, so both acks succeeding is the proof.
    await waitFor(() => acked.length === 2, { timeoutMs: 15_000, intervalMs: 100 });
    await Promise.all(subs.map((s) => s.close(2_000)));
    expect(attempts.sort()).to.deep.equal(['slow-ordered@1', 'slow@1']);
    for (const group of groups) {
      const response = await fetch(
        `${emulator.adminUrl}/topics/${topicName('', destination)}/subscriptions/${subscriptionName(group)}`,
      );
      const { counts } = (await response.json()) as { counts: Record<string, number> };
      expect(counts, group).to.include({ active: 0, locked: 0, deadLetter: 0 });
    }
  });

  it('retries unordered messages with a scheduled copy: no sooner than the delay, attempt carried, other groups unaffected', async () => {
    const t = await transport();
    const destination = unique('retry');
    await t.provision({
      destinations: [
        {
          name: destination,
          groups: [
            { name: 'flaky', ordered: false },
            { name: 'steady', ordered: false },
          ],
        },
      ],
    });
    const flaky: Array<{ attempt: number; at: number }> = [];
    const steady: number[] = [];
    const subs = await Promise.all([
      t.subscribe(
        { destination, group: 'flaky', concurrency: 1, ordered: false, handlerTimeoutMs: 10_000 },
        async (d) => {
          flaky.push({ attempt: d.deliveryAttempt, at: Date.now() });
          if (d.deliveryAttempt < 3) await d.retry(700);
          else await d.ack();
        },
      ),
      t.subscribe(
        { destination, group: 'steady', concurrency: 1, ordered: false, handlerTimeoutMs: 10_000 },
        async (d) => {
          steady.push(d.deliveryAttempt);
          await d.ack();
        },
      ),
    ]);
    await t.publish(destination, [{ envelope: envelope('flaky') }]);
    await waitFor(() => flaky.length === 3, { timeoutMs: 15_000 });
    await Promise.all(subs.map((s) => s.close(2_000)));
    expect(flaky.map((f) => f.attempt)).to.deep.equal([1, 2, 3]);
    for (let i = 1; i < flaky.length; i += 1) {
      expect((flaky[i]?.at ?? 0) - (flaky[i - 1]?.at ?? 0)).to.be.at.least(690);
    }
    expect(steady).to.deep.equal([1]);
  });

  it('the provisioned retry rule keeps retry copies out of other groups’ subscriptions (counted on the broker)', async () => {
    const t = await transport();
    const destination = unique('rule');
    const topic = topicName('', destination);
    await t.provision({
      destinations: [
        {
          name: destination,
          groups: [
            { name: 'flaky', ordered: false },
            { name: 'idle', ordered: false },
            { name: 'idle-ordered', ordered: true },
          ],
        },
      ],
    });
    // Control: a subscription created without the rule (as with provisioning: 'none').
    const control = await fetch(`${emulator.adminUrl}/topics/${topic}/subscriptions/no-rule`, {
      method: 'PUT',
    });
    expect(control.status).to.equal(201);
    const attempts: number[] = [];
    await t.subscribe(
      { destination, group: 'flaky', concurrency: 1, ordered: false, handlerTimeoutMs: 10_000 },
      async (d) => {
        attempts.push(d.deliveryAttempt);
        if (d.deliveryAttempt < 3) await d.retry(200);
        else await d.ack();
      },
    );
    await t.publish(destination, [{ envelope: envelope('retried', { partitionKey: 'k' }) }]);
    // A copy reaches every subscription in the same fan-out, so once the flaky group has seen
    // attempt 3, every copy that was going to arrive anywhere has arrived.
    await waitFor(() => attempts.length === 3, { timeoutMs: 15_000 });
    const counts = async (subscription: string): Promise<Record<string, number>> => {
      const response = await fetch(`${emulator.adminUrl}/topics/${topic}/subscriptions/${subscription}`);
      return ((await response.json()) as { counts: Record<string, number> }).counts;
    };
    // The idle groups hold only the original; the control subscription also got both copies.
    expect(await counts(subscriptionName('idle'))).to.include({ active: 1, scheduled: 0 });
    expect(await counts(subscriptionName('idle-ordered'))).to.include({ active: 1, scheduled: 0 });
    expect(await counts('no-rule')).to.include({ active: 3 });
    const [original] = await native.client.createReceiver(topic, subscriptionName('idle')).peekMessages(5);
    expect(original?.applicationProperties?.['omnibus-retry-subscription']).to.equal(undefined);
  });

  it('carries the attempt count of a scheduled retry across a consumer restart', async () => {
    const destination = unique('restart');
    const first = await transport();
    await first.provision({ destinations: [{ name: destination, groups: [{ name: 'g', ordered: false }] }] });
    let retried = false;
    const sub = await first.subscribe(
      { destination, group: 'g', concurrency: 1, ordered: false, handlerTimeoutMs: 10_000 },
      async (d) => {
        await d.retry(1_500);
        retried = true;
      },
    );
    await first.publish(destination, [{ envelope: envelope('x') }]);
    await waitFor(() => retried);
    await sub.close(1_000);
    await first.close(1_000);
    const second = await transport();
    const attempts: number[] = [];
    await second.subscribe(
      { destination, group: 'g', concurrency: 1, ordered: false, handlerTimeoutMs: 10_000 },
      async (d) => {
        attempts.push(d.deliveryAttempt);
        await d.ack();
      },
    );
    await waitFor(() => attempts.length === 1, { timeoutMs: 10_000 });
    expect(attempts).to.deep.equal([2]);
  });

  it('dead-letters natively with DeadLetterReason, description and the omnibus properties', async () => {
    const t = await transport();
    const destination = unique('dlq');
    await t.provision({ destinations: [{ name: destination, groups: [{ name: 'g', ordered: false }] }] });
    let settled = false;
    await t.subscribe(
      { destination, group: 'g', concurrency: 1, ordered: false, handlerTimeoutMs: 10_000 },
      async (d) => {
        await d.deadLetter({ code: 'HANDLER_FAILED', message: 'it broke', attempts: d.deliveryAttempt });
        settled = true;
      },
    );
    const sent = envelope('poison', { headers: { 'x-custom': '1' } });
    await t.publish(destination, [{ envelope: sent }]);
    await waitFor(() => settled);
    const [dead] = await waitFor(async () => {
      const got = await native.drain(topicName('', destination), subscriptionName('g'), true, 200);
      return got.length > 0 ? got : undefined;
    });
    expect(dead?.deadLetterReason).to.equal('HANDLER_FAILED');
    expect(dead?.deadLetterErrorDescription).to.equal('it broke');
    expect(dead?.applicationProperties).to.include({
      'x-custom': '1',
      'ce-id': sent.id,
      'omnibus-dead-letter-code': 'HANDLER_FAILED',
      'omnibus-dead-letter-attempts': '1',
      'omnibus-dead-letter-destination': destination,
      'omnibus-dead-letter-group': 'g',
    });
    expect(Buffer.from(dead?.body as Buffer).toString()).to.equal('poison');
  });

  it('delivers delayed messages no sooner than scheduledEnqueueTimeUtc', async () => {
    const t = await transport();
    const destination = unique('delay');
    await t.provision({ destinations: [{ name: destination, groups: [{ name: 'g', ordered: false }] }] });
    let receivedAt = 0;
    await t.subscribe(
      { destination, group: 'g', concurrency: 1, ordered: false, handlerTimeoutMs: 10_000 },
      async (d) => {
        receivedAt = Date.now();
        await d.ack();
      },
    );
    const publishedAt = Date.now();
    await t.publish(destination, [{ envelope: envelope('later'), delayMs: 1_500 }]);
    await waitFor(() => receivedAt > 0, { timeoutMs: 10_000 });
    expect(receivedAt - publishedAt).to.be.at.least(1_500);
  });

  it('rejects oversize payloads and oversize properties with PAYLOAD_TOO_LARGE, sending nothing', async () => {
    const t = await transport();
    const destination = unique('size');
    await t.provision({ destinations: [{ name: destination, groups: [{ name: 'g', ordered: false }] }] });
    const limit = t.capabilities.maxPayloadBytes;
    const tooBig = t.publish(destination, [
      { envelope: envelope('ok') },
      { envelope: { ...envelope(''), payload: new Uint8Array(limit + 1) } },
    ]);
    await expectCode(tooBig, 'PAYLOAD_TOO_LARGE');
    const hugeHeaders = t.publish(destination, [
      { envelope: envelope('x', { headers: { big: 'h'.repeat(260_000) } }) },
    ]);
    await expectCode(hugeHeaders, 'PAYLOAD_TOO_LARGE');
    await t.publish(destination, [{ envelope: { ...envelope(''), payload: new Uint8Array(limit) } }]);
    const got = await waitFor(async () => {
      const m = await native.drain(topicName('', destination), 'g', false, 300);
      return m.length > 0 ? m : undefined;
    });
    expect(got.map((m) => (m.body as Buffer).length)).to.deep.equal([limit]);
  });

  it('close stops intake, lets in-flight handlers settle and releases unstarted messages', async () => {
    const t = await transport();
    const destination = unique('close');
    await t.provision({ destinations: [{ name: destination, groups: [{ name: 'g', ordered: false }] }] });
    const started: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const sub: Subscription = await t.subscribe(
      { destination, group: 'g', concurrency: 2, ordered: false, handlerTimeoutMs: 10_000 },
      async (d) => {
        started.push(text(d));
        await gate;
        await d.ack();
      },
    );
    await t.publish(
      destination,
      ['m1', 'm2', 'm3', 'm4'].map((m) => ({ envelope: envelope(m) })),
    );
    await waitFor(() => started.length === 2);
    const closing = sub.close(5_000);
    setTimeout(release, 300);
    await closing;
    const rest = await native.drain(topicName('', destination), 'g', false, 1_000);
    const remaining = rest.map((m) => Buffer.from(m.body as Buffer).toString()).sort();
    expect(remaining).to.deep.equal(['m1', 'm2', 'm3', 'm4'].filter((m) => !started.includes(m)).sort());
    expect(started).to.have.length(2);
  });

  it('after a dropped connection, acking a message received before it fails at once and the broker redelivers it', async () => {
    // A 60 s operation timeout: left to the SDK, this ack would wait it out once per retry.
    const t = await transport({ lockDurationMs: 5_000, operationTimeoutMs: 60_000, maxRetries: 1 });
    const destination = unique('drop');
    await t.provision({ destinations: [{ name: destination, groups: [{ name: 'g', ordered: false }] }] });
    const seen: Array<{ text: string; attempt: number }> = [];
    let held: Delivery | undefined;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    await t.subscribe(
      { destination, group: 'g', concurrency: 2, ordered: false, handlerTimeoutMs: 10_000 },
      async (d) => {
        seen.push({ text: text(d), attempt: d.deliveryAttempt });
        if (held === undefined) {
          held = d;
          await gate;
          return;
        }
        await d.ack();
      },
    );
    const statuses: string[] = [];
    t.onStatusChange((status) => statuses.push(status));
    await t.publish(destination, [{ envelope: envelope('held') }]);
    await waitFor(() => held !== undefined);
    expect(emulator.dropConnections()).to.be.at.least(1);
    // The idle receive slot notices the drop. (An ack racing the drop itself would also fail
    // fast, but the SDK would leave its disposition timer running for the operation timeout.)
    await waitFor(() => statuses.includes('reconnecting'));
    let outcome: string | undefined;
    held!.ack().then(
      () => (outcome = 'resolved'),
      (error: unknown) => (outcome = (error as { code?: string }).code ?? 'rejected'),
    );
    await waitFor(() => outcome !== undefined, { timeoutMs: 10_000 });
    release();
    expect(outcome).to.equal('SETTLEMENT_FAILED');
    await t.publish(destination, [{ envelope: envelope('after') }]);
    await waitFor(
      () => seen.some((s) => s.text === 'held' && s.attempt === 2) && seen.some((s) => s.text === 'after'),
      {
        timeoutMs: 15_000,
      },
    );
    await waitFor(() => t.status === 'ready');
  });

  it('fails connect with a typed, retriable CONNECTION_FAILED when nothing listens', async () => {
    const t = new AzureServiceBusTransport({
      connectionString:
        'Endpoint=sb://127.0.0.1:9;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;',
      provisioning: 'none',
      maxRetries: 0,
      operationTimeoutMs: 3_000,
    });
    const error = await t.connect().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).to.include({ code: 'CONNECTION_FAILED', retriable: true });
    expect((error as Error).message).not.to.contain('SharedAccessKey=v');
    await t.close();
  });

  it('deleteTopology removes the subscriptions of the groups and the topic, skips what is missing, and a later provision recreates them', async () => {
    const t = await transport();
    const destination = unique('delete');
    const topology = {
      destinations: [
        {
          name: destination,
          groups: [
            { name: 'plain', ordered: false },
            { name: 'keyed', ordered: true },
          ],
        },
      ],
    };
    const topic = topicName('', destination);
    const status = async (path: string): Promise<number> =>
      (await fetch(`${emulator.adminUrl}/topics/${topic}${path}`)).status;
    await t.provision(topology);
    await t.publish(destination, [{ envelope: envelope('before') }]);
    for (const path of ['', ...['plain', 'keyed'].map((g) => `/subscriptions/${subscriptionName(g)}`)])
      expect(await status(path), `${topic}${path} provisioned`).to.equal(200);
    await t.deleteTopology(topology);
    for (const path of ['', ...['plain', 'keyed'].map((g) => `/subscriptions/${subscriptionName(g)}`)])
      expect(await status(path), `${topic}${path} deleted`).to.equal(404);
    await t.deleteTopology(topology);
    await t.provision(topology);
    expect(await status(`/subscriptions/${subscriptionName('plain')}`), 'provisioned again').to.equal(200);
    const received: string[] = [];
    await t.subscribe(
      { destination, group: 'plain', concurrency: 1, ordered: false, handlerTimeoutMs: 10_000 },
      async (d) => {
        received.push(text(d));
        await d.ack();
      },
    );
    await t.publish(destination, [{ envelope: envelope('after') }]);
    await waitFor(() => received.length > 0, {
      timeoutMs: 10_000,
      message: 'the message after re-provisioning',
    });
    expect(received, 'only the message published after the deletion').to.deep.equal(['after']);
  });
});

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error, `expected ${code}`).to.include({ code });
}
