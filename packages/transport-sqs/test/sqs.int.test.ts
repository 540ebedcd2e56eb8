import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { ListTopicsCommand, type SNSClient } from '@aws-sdk/client-sns';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import {
  isOmnibusError,
  readDeadLetterInfo,
  type Delivery,
  type MessageEnvelope,
  type Subscription,
} from '@omnibus/core';
import { SqsNaming, SqsTransport } from '../src/index.js';
import {
  cleanUp,
  decodeIndependently,
  drainQueue,
  nativeClients,
  queueNames,
  queueUrl,
  testOptions,
  type SqsTestConfig,
} from './support/sqs-test-env.js';
import { waitFor } from '@omnibus/core/testing';

function envelope(overrides: Partial<MessageEnvelope> = {}): MessageEnvelope {
  return {
    id: randomUUID(),
    type: 'test.sqs-specific.v1',
    payload: new TextEncoder().encode('{"n":1}'),
    contentType: 'application/json',
    headers: {},
    occurredAt: new Date(),
    ...overrides,
  };
}

function unique(name: string): string {
  return `${name}.${randomUUID().slice(0, 8)}`;
}

/** Whether an SNS topic of that name exists (every page of ListTopics). */
async function topicExists(sns: SNSClient, name: string): Promise<boolean> {
  let next: string | undefined;
  do {
    const page = await sns.send(new ListTopicsCommand(next === undefined ? {} : { NextToken: next }));
    if ((page.Topics ?? []).some((x) => x.TopicArn?.endsWith(`:${name}`) === true)) return true;
    next = page.NextToken;
  } while (next !== undefined && next !== '');
  return false;
}

/** Resolves when `predicate` holds (polling every 50 ms); rejects after `timeoutMs`. */
async function until(predicate: () => boolean, timeoutMs: number, what: string): Promise<void> {
  await waitFor(predicate, { timeoutMs, intervalMs: 50, message: `timed out waiting for ${what}` });
}

describe('SQS transport specifics (ElasticMQ / fauxqs)', function () {
  this.timeout(60_000);
  const open: SqsTransport[] = [];
  const subscriptions: Subscription[] = [];
  const natives: SQSClient[] = [];

  async function transport(
    config: SqsTestConfig,
    overrides: Record<string, unknown> = {},
  ): Promise<SqsTransport> {
    const t = new SqsTransport(testOptions(config, overrides));
    open.push(t);
    await t.connect();
    return t;
  }

  function native(config: SqsTestConfig): SQSClient {
    const { sqs, sns } = nativeClients(config);
    sns.destroy();
    natives.push(sqs);
    return sqs;
  }

  afterEach(async () => {
    await Promise.all(subscriptions.splice(0).map((s) => s.close(0)));
    await Promise.all(open.splice(0).map((t) => t.close(0)));
    for (const c of natives.splice(0)) c.destroy();
  });

  after(async () => {
    await cleanUp('standard');
    await cleanUp('sns');
  });

  it('keeps a message invisible while its handler runs past the visibility timeout, then deletes it on ack', async () => {
    const destination = unique('visibility');
    const t = await transport('standard', { visibilityTimeoutSeconds: 1 });
    await t.provision({ destinations: [{ name: destination, groups: [{ name: 'g', ordered: false }] }] });
    const url = await queueUrl(
      native('standard'),
      queueNames('standard', testOptions('standard'), destination, 'g').queue,
    );
    const sqs = native('standard');
    let release!: () => void;
    const handlerMayFinish = new Promise<void>((r) => (release = r));
    const seen: Delivery[] = [];
    let acked = false;
    subscriptions.push(
      await t.subscribe(
        { destination, group: 'g', concurrency: 2, ordered: false, handlerTimeoutMs: 10_000 },
        async (d) => {
          seen.push(d);
          await handlerMayFinish;
          await d.ack();
          acked = true;
        },
      ),
    );
    await t.publish(destination, [{ envelope: envelope() }]);
    await until(() => seen.length === 1, 10_000, 'the delivery');
    const started = Date.now();
    // Three visibility timeouts pass while the handler runs; nobody else may see the message.
    while (Date.now() - started < 3_500) {
      const page = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 1, MaxNumberOfMessages: 1 }),
      );
      expect(page.Messages ?? [], 'message became visible while its handler ran').to.have.length(0);
    }
    release();
    await until(() => seen[0]?.deliveryAttempt === 1 && acked, 5_000, 'the ack');
    const attrs = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: url,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(attrs.Attributes).to.include({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
    expect(seen).to.have.length(1);
  });

  it('provisions a redrive policy as a safety net: SQS moves a message received maxReceiveCount times to the dead-letter queue', async () => {
    const destination = unique('redrive');
    const options = { maxReceiveCount: 2 };
    const t = await transport('standard', options);
    await t.provision({ destinations: [{ name: destination, groups: [{ name: 'g', ordered: false }] }] });
    const sqs = native('standard');
    const names = queueNames('standard', testOptions('standard', options), destination, 'g');
    const [url, dlqUrl] = await Promise.all([
      queueUrl(sqs, names.queue),
      queueUrl(sqs, names.deadLetterQueue),
    ]);
    const policy = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['RedrivePolicy'] }),
    );
    expect(JSON.parse(policy.Attributes?.RedrivePolicy ?? '{}')).to.include({ maxReceiveCount: 2 });
    await t.publish(destination, [{ envelope: envelope() }]);
    // A consumer that never settles: receive twice with a 1 s visibility timeout.
    for (let i = 0; i < 2; i += 1) {
      const page = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 5, VisibilityTimeout: 1 }),
      );
      expect(page.Messages ?? []).to.have.length(1);
    }
    // SQS moves it when the next receive would exceed maxReceiveCount.
    const third = await sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 3 }));
    expect(third.Messages ?? []).to.have.length(0);
    const moved = await drainQueue(sqs, dlqUrl, 1, 15_000);
    expect(moved).to.have.length(1);
    // The redrive policy carries no reason: that is why the adapter dead-letters itself.
    expect(readDeadLetterInfo(decodeIndependently(moved[0] as never).headers)).to.equal(undefined);
  });

  it('dead-letters with the reason headers, the original payload and headers, then deletes the original', async () => {
    const destination = unique('dead-letter');
    const t = await transport('standard');
    await t.provision({ destinations: [{ name: destination, groups: [{ name: 'g', ordered: false }] }] });
    const sqs = native('standard');
    const names = queueNames('standard', testOptions('standard'), destination, 'g');
    const payload = new Uint8Array([0, 1, 2, 254, 255]);
    const original = envelope({
      payload,
      contentType: 'application/octet-stream',
      headers: { 'x-tenant': 'acme' },
      correlationId: 'c-1',
    });
    let done = false;
    subscriptions.push(
      await t.subscribe(
        { destination, group: 'g', concurrency: 1, ordered: false, handlerTimeoutMs: 5_000 },
        async (d) => {
          await d.deadLetter({ code: 'HANDLER_FAILED', message: 'boom', attempts: d.deliveryAttempt });
          done = true;
        },
      ),
    );
    await t.publish(destination, [{ envelope: original }]);
    await until(() => done, 10_000, 'the dead-letter');
    const [copy] = await drainQueue(sqs, await queueUrl(sqs, names.deadLetterQueue), 1, 5_000);
    const { headers, payload: body } = decodeIndependently(copy as never);
    expect([...body]).to.deep.equal([...payload]);
    expect(headers).to.include({ 'x-tenant': 'acme', 'ce-id': original.id, 'omnibus-correlation-id': 'c-1' });
    expect(readDeadLetterInfo(headers)).to.include({
      code: 'HANDLER_FAILED',
      message: 'boom',
      attempts: 1,
      destination,
      group: 'g',
    });
    expect(Object.keys(copy?.MessageAttributes ?? {}).length).to.be.at.most(10);
    const left = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: await queueUrl(sqs, names.queue),
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(left.Attributes).to.include({
      ApproximateNumberOfMessages: '0',
      ApproximateNumberOfMessagesNotVisible: '0',
    });
  });

  it('carries 40 custom headers through SQS in at most 10 attributes, and rejects oversize messages at publish', async () => {
    const destination = unique('headers');
    const t = await transport('standard');
    await t.provision({ destinations: [{ name: destination, groups: [{ name: 'g', ordered: false }] }] });
    const headers: Record<string, string> = {};
    for (let i = 0; i < 40; i += 1) headers[`x-h-${String(i)}`] = `v${String(i)} ü`;
    await t.publish(destination, [{ envelope: envelope({ headers }) }]);
    const sqs = native('standard');
    const [m] = await drainQueue(
      sqs,
      await queueUrl(sqs, queueNames('standard', testOptions('standard'), destination, 'g').queue),
      1,
      5_000,
    );
    expect(Object.keys(m?.MessageAttributes ?? {}).length).to.be.at.most(10);
    expect(decodeIndependently(m as never).headers).to.include(headers);
    const big = envelope({ payload: new Uint8Array(t.capabilities.maxPayloadBytes + 1) });
    const error: unknown = await t.publish(destination, [{ envelope: big }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isOmnibusError(error) && error.code).to.equal('PAYLOAD_TOO_LARGE');
    const hugeHeaders = envelope({ headers: { 'x-big': 'y'.repeat(300_000) } });
    const error2: unknown = await t.publish(destination, [{ envelope: hugeHeaders }]).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(isOmnibusError(error2) && error2.code).to.equal('PAYLOAD_TOO_LARGE');
  });

  it('releases received-but-unstarted messages on close (visibility 0), so they return long before the visibility timeout', async () => {
    const destination = unique('release');
    const t = await transport('fifo', { visibilityTimeoutSeconds: 60 });
    await t.provision({ destinations: [{ name: destination, groups: [{ name: 'g', ordered: true }] }] });
    await t.publish(
      destination,
      [1, 2, 3, 4].map((n) => ({
        envelope: envelope({ id: `r-${String(n)}-${randomUUID()}`, partitionKey: 'one-key' }),
      })),
    );
    let started = 0;
    const subscription = await t.subscribe(
      { destination, group: 'g', concurrency: 4, ordered: true, handlerTimeoutMs: 5_000 },
      async () => {
        started += 1;
        await new Promise(() => undefined); // never settles: the first message blocks its key
      },
    );
    await until(() => started === 1, 10_000, 'the first delivery');
    await subscription.close(100);
    const sqs = native('fifo');
    const url = await queueUrl(sqs, queueNames('fifo', testOptions('fifo'), destination, 'g').queue);
    const back = await drainQueue(sqs, url, 4, 10_000);
    expect(back.map((m) => decodeIndependently(m).headers['ce-id']?.split('-')[1])).to.deep.equal([
      '1',
      '2',
      '3',
      '4',
    ]);
    expect(started).to.equal(1);
  });

  it('FIFO: drops a second publish with the same message id (MessageDeduplicationId)', async () => {
    const destination = unique('dedup');
    const t = await transport('fifo');
    await t.provision({ destinations: [{ name: destination, groups: [{ name: 'g', ordered: true }] }] });
    const e = envelope({ partitionKey: 'k' });
    await t.publish(destination, [{ envelope: e }]);
    await t.publish(destination, [{ envelope: e }]);
    await t.publish(destination, [{ envelope: envelope({ id: 'marker', partitionKey: 'k' }) }]);
    const sqs = native('fifo');
    const got = await drainQueue(
      sqs,
      await queueUrl(sqs, queueNames('fifo', testOptions('fifo'), destination, 'g').queue),
      3,
      2_000,
    );
    expect(got.map((m) => decodeIndependently(m).headers['ce-id'])).to.deep.equal([e.id, 'marker']);
  });

  it('FIFO: keeps per-key order across retries of messages received in one batch', async () => {
    const destination = unique('fifo-order');
    const t = await transport('fifo');
    await t.provision({ destinations: [{ name: destination, groups: [{ name: 'g', ordered: true }] }] });
    const ids = ['a1', 'a2', 'a3', 'b1', 'b2'].map((id) => ({ id, key: id[0] as string }));
    await t.publish(
      destination,
      ids.map(({ id, key }) => ({ envelope: envelope({ id, partitionKey: key }) })),
    );
    const order: string[] = [];
    subscriptions.push(
      await t.subscribe(
        { destination, group: 'g', concurrency: 4, ordered: true, handlerTimeoutMs: 5_000 },
        async (d) => {
          order.push(`${d.envelope.id}#${String(d.deliveryAttempt)}`);
          if (d.envelope.id === 'a1' && d.deliveryAttempt === 1) await d.retry(1000);
          else await d.ack();
        },
      ),
    );
    await until(
      () => order.filter((o) => o.startsWith('a')).length >= 4 && order.some((o) => o.startsWith('b2')),
      20_000,
      'all deliveries',
    );
    const forKey = (k: string) => order.filter((o) => o.startsWith(k));
    // a2 and a3 were released unstarted behind the retried a1: their attempts stay 1.
    expect(forKey('a')).to.deep.equal(['a1#1', 'a1#2', 'a2#1', 'a3#1']);
    expect(forKey('b')).to.deep.equal(['b1#1', 'b2#1']);
  });

  it('fanOut "none" refuses a second group on one destination; verify mode reports what is missing', async () => {
    const t = await transport('standard');
    const error: unknown = await t
      .provision({
        destinations: [
          {
            name: unique('two-groups'),
            groups: [
              { name: 'a', ordered: false },
              { name: 'b', ordered: false },
            ],
          },
        ],
      })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isOmnibusError(error) && error.code).to.equal('CAPABILITY_MISSING');
    const v = await transport('standard', { provisioning: 'verify' });
    const missing = unique('missing');
    const error2: unknown = await v
      .provision({ destinations: [{ name: missing, groups: [{ name: 'g', ordered: false }] }] })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isOmnibusError(error2) && error2.code).to.equal('PROVISIONING_FAILED');
    expect(String((error2 as Error).message)).to.include(
      queueNames('standard', testOptions('standard'), missing, 'g').deadLetterQueue,
    );
  });

  it('SNS: subscribes each group queue with raw delivery (the body is the payload, headers are attributes)', async () => {
    const destination = unique('sns-raw');
    const t = await transport('sns');
    await t.provision({
      destinations: [
        {
          name: destination,
          groups: [
            { name: 'a', ordered: false },
            { name: 'b', ordered: false },
          ],
        },
      ],
    });
    const e = envelope({ headers: { 'x-k': 'v' } });
    await t.publish(destination, [{ envelope: e }]);
    const sqs = native('sns');
    for (const group of ['a', 'b']) {
      const [m] = await drainQueue(
        sqs,
        await queueUrl(sqs, queueNames('sns', testOptions('sns'), destination, group).queue),
        1,
        5_000,
      );
      expect(m?.Body).to.equal('{"n":1}');
      expect(decodeIndependently(m as never).headers).to.include({ 'x-k': 'v', 'ce-id': e.id });
    }
    await t.provision({
      destinations: [
        {
          name: destination,
          groups: [
            { name: 'a', ordered: false },
            { name: 'b', ordered: false },
          ],
        },
      ],
    });
    const verify = await transport('sns', { provisioning: 'verify' });
    await verify.provision({
      destinations: [{ name: destination, groups: [{ name: 'a', ordered: false }] }],
    });
  });

  it('reads foreign messages sent with the native client without crashing', async () => {
    const destination = unique('foreign');
    const t = await transport('standard');
    await t.provision({ destinations: [{ name: destination, groups: [{ name: 'g', ordered: false }] }] });
    const sqs = native('standard');
    const url = await queueUrl(sqs, queueNames('standard', testOptions('standard'), destination, 'g').queue);
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: url,
        MessageBody: 'not json',
        MessageAttributes: { source: { DataType: 'String', StringValue: 'legacy' } },
      }),
    );
    const seen: Delivery[] = [];
    subscriptions.push(
      await t.subscribe(
        { destination, group: 'g', concurrency: 1, ordered: false, handlerTimeoutMs: 5_000 },
        async (d) => {
          seen.push(d);
          await d.ack();
        },
      ),
    );
    await until(() => seen.length === 1, 10_000, 'the foreign delivery');
    expect(seen[0]?.envelope.type).to.equal('');
    expect(seen[0]?.envelope.headers).to.deep.equal({ source: 'legacy' });
    expect(new TextDecoder().decode(seen[0]?.envelope.payload)).to.equal('not json');
  });
  for (const config of ['standard', 'sns'] as const) {
    it(`deleteTopology removes the group queues${config === 'sns' ? ' and the topic' : ''} (${config}), skips what is missing, and a later provision recreates them`, async () => {
      const destination = unique('delete-topology');
      const topology = { destinations: [{ name: destination, groups: [{ name: 'g', ordered: false }] }] };
      const t = await transport(config);
      await t.provision(topology);
      const names = queueNames(config, testOptions(config), destination, 'g');
      const { sqs, sns } = nativeClients(config);
      try {
        const topic = new SqsNaming({
          queuePrefix: String(testOptions(config).queuePrefix),
          fifo: false,
        }).topic(destination);
        await queueUrl(sqs, names.queue);
        await queueUrl(sqs, names.deadLetterQueue);
        if (config === 'sns') expect(await topicExists(sns, topic), 'topic provisioned').to.equal(true);
        await t.deleteTopology(topology);
        for (const name of [names.queue, names.deadLetterQueue]) {
          const missing = await queueUrl(sqs, name).then(
            () => false,
            (error: unknown) =>
              /QueueDoesNotExist|NonExistentQueue/.test(String((error as { name?: string }).name)),
          );
          expect(missing, `${name} deleted`).to.equal(true);
        }
        if (config === 'sns') expect(await topicExists(sns, topic), 'topic deleted').to.equal(false);
        await t.deleteTopology(topology);
        await t.provision(topology);
        await t.publish(destination, [{ envelope: envelope() }]);
        expect(await drainQueue(sqs, await queueUrl(sqs, names.queue), 1, 5_000)).to.have.length(1);
      } finally {
        sqs.destroy();
        sns.destroy();
      }
    });
  }
});
