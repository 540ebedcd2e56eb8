import { ErrorCodes, EventHandler, createEventBus, defineRequest, isOmnibusError } from '@omnibus/core';
import type { Delivery, Subscription, SubscriptionSpec } from '@omnibus/core';
import { waitFor } from '@omnibus/core/testing';
import { expect } from 'chai';
import type { Admin, Kafka } from 'kafkajs';
import type { KafkaTransport } from '../src/kafka-transport.js';
import { KafkaHeaders } from '../src/kafka-headers.js';
import {
  envelope,
  nativeAdmin,
  nativeKafka,
  outgoing,
  readTopic,
  testTransport,
  uniqueName,
} from './kafka-test-support.js';

const spec = (
  destination: string,
  group: string,
  extra: Partial<SubscriptionSpec> = {},
): SubscriptionSpec => ({
  destination,
  group,
  concurrency: 4,
  ordered: false,
  handlerTimeoutMs: 30000,
  ...extra,
});

const text = (d: Delivery): string => new TextDecoder().decode(d.envelope.payload);

describe('Kafka transport (real broker): adapter specifics', function () {
  this.timeout(90_000);
  let kafka: Kafka;
  let admin: Admin;
  const prefix = `${uniqueName('kint')}.`;
  const open: KafkaTransport[] = [];
  const transport = (extra: Readonly<Record<string, unknown>> = {}): KafkaTransport => {
    const t = testTransport(prefix, extra);
    open.push(t);
    return t;
  };

  before(async () => {
    kafka = nativeKafka();
    admin = await nativeAdmin(kafka);
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((t) => t.close(2000)));
  });

  after(async () => {
    await admin.disconnect();
  });

  describe('provisioning', () => {
    it('creates main, delay, retry and dead-letter topics with the configured partitions', async () => {
      const dest = uniqueName('prov');
      const t = transport({ partitions: 3 });
      await t.provision({
        destinations: [
          {
            name: dest,
            groups: [
              { name: 'g1', ordered: false },
              { name: 'g2', ordered: true },
            ],
          },
        ],
      });
      const topics = (await admin.listTopics()).filter((n) => n.startsWith(`${prefix}${dest}`)).sort();
      expect(topics).to.deep.equal(
        [
          `${prefix}${dest}`,
          `${prefix}${dest}.delay-1000`,
          `${prefix}${dest}.delay-5000`,
          `${prefix}${dest}.delay-30000`,
          `${prefix}${dest}.g1.dlq`,
          `${prefix}${dest}.g1.retry-250`,
          `${prefix}${dest}.g1.retry-1000`,
          `${prefix}${dest}.g1.retry-5000`,
          `${prefix}${dest}.g2.dlq`,
        ].sort(),
      );
      const { topics: meta } = await admin.fetchTopicMetadata({ topics: [`${prefix}${dest}`] });
      expect(meta[0]?.partitions).to.have.length(3);
      await t.provision({ destinations: [{ name: dest, groups: [{ name: 'g1', ordered: false }] }] });
    });

    it('verify mode fails naming the missing topics, and passes once they exist', async () => {
      const dest = uniqueName('verify');
      const topology = { destinations: [{ name: dest, groups: [{ name: 'g', ordered: true }] }] };
      const verifier = transport({ provisioning: 'verify' });
      const error = await verifier.provision(topology).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isOmnibusError(error) && error.code).to.equal(ErrorCodes.PROVISIONING_FAILED);
      expect((error as Error).message).to.contain(`${prefix}${dest}.g.dlq`);
      const publishError = await verifier.publish(dest, outgoing(envelope({}))).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isOmnibusError(publishError) && publishError.code).to.equal(ErrorCodes.PUBLISH_FAILED);
      await transport().provision(topology);
      await verifier.provision(topology);
    });
  });

  describe('request/reply cleanup', () => {
    it('stop deletes the per-instance reply topics and the reply group; deleting again is a no-op', async () => {
      const Quote = defineRequest<{ kg: number }, { cents: number }>(`${uniqueName('quote')}.v1`, {
        destination: uniqueName('quotes'),
      });
      class Quotes {
        @EventHandler(Quote, { group: uniqueName('g') })
        quote(request: { kg: number }): { cents: number } {
          return { cents: request.kg * 150 };
        }
      }
      const t = transport();
      const bus = createEventBus({ transport: t, handlers: [Quotes] });
      await bus.start();
      let replyDestination: string | undefined;
      try {
        expect(await bus.request(Quote, { kg: 2 }, { timeoutMs: 20_000 })).to.deep.equal({ cents: 300 });
        replyDestination = bus.requestStats().replyDestination;
        expect(replyDestination).to.be.a('string');
        const replyTopics = (await admin.listTopics()).filter((n) =>
          n.startsWith(`${prefix}${replyDestination}`),
        );
        expect(replyTopics, 'reply topics while running').to.include(`${prefix}${replyDestination}`);
      } finally {
        await bus.stop({ drainTimeoutMs: 2000 });
      }
      const left = (await admin.listTopics()).filter((n) => n.includes(String(replyDestination)));
      expect(left, 'reply topics after stop').to.deep.equal([]);
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId);
      expect(
        groups.filter((g) => g.includes(String(replyDestination))),
        'reply group after stop',
      ).to.deep.equal([]);
      const again = transport();
      const topology = {
        destinations: [
          { name: String(replyDestination), groups: [{ name: String(replyDestination), ordered: false }] },
        ],
      };
      await again.deleteTopology(topology);
    });
  });

  describe('publishing', () => {
    it('resolves after the broker acknowledged; key, headers and payload are on the record', async () => {
      const dest = uniqueName('pub');
      const t = transport();
      await t.provision({ destinations: [{ name: dest, groups: [{ name: 'g', ordered: false }] }] });
      const e = envelope(
        { hello: 'kafka' },
        {
          partitionKey: 'customer-7',
          headers: { traceparent: '00-abc-def-01', custom: 'x' },
          correlationId: 'c1',
        },
      );
      await t.publish(dest, outgoing(e));
      const [record] = await readTopic(kafka, `${prefix}${dest}`, 1);
      expect(record?.key).to.equal('customer-7');
      expect(record?.value?.toString()).to.equal('{"hello":"kafka"}');
      expect(record?.headers['ce-id']).to.equal(e.id);
      expect(record?.headers['custom']).to.equal('x');
      expect(record?.headers['traceparent']).to.equal('00-abc-def-01');
      expect(record?.headers['omnibus-correlation-id']).to.equal('c1');
    });

    it('coalesces concurrent publishes and resolves each one', async () => {
      const dest = uniqueName('batch');
      const t = transport();
      await t.provision({ destinations: [{ name: dest, groups: [{ name: 'g', ordered: false }] }] });
      await Promise.all(
        Array.from({ length: 50 }, (_, i) =>
          t.publish(dest, outgoing(envelope({ i }, { partitionKey: `k${String(i % 5)}` }))),
        ),
      );
      const records = await readTopic(kafka, `${prefix}${dest}`, 50);
      expect(records).to.have.length(50);
    });

    it('rejects oversize payloads before sending and delays beyond the largest tier', async () => {
      const t = transport({ maxMessageBytes: 1000 });
      const dest = uniqueName('big');
      await t.provision({ destinations: [{ name: dest, groups: [] }] });
      const big = { envelope: envelope({ pad: 'x'.repeat(2000) }) };
      const tooBig = await t.publish(dest, [big]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isOmnibusError(tooBig) && tooBig.code).to.equal(ErrorCodes.PAYLOAD_TOO_LARGE);
      const tooLate = await t.publish(dest, [{ envelope: envelope({}), delayMs: 60_000 }]).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(isOmnibusError(tooLate) && tooLate.code).to.equal(ErrorCodes.DELAY_OUT_OF_RANGE);
    });
  });

  describe('consuming', () => {
    it('commits only the settled prefix of a partition', async () => {
      const dest = uniqueName('commit');
      const t = transport({ partitions: 1 });
      await t.provision({ destinations: [{ name: dest, groups: [{ name: 'g', ordered: false }] }] });
      await t.publish(dest, outgoing(envelope({ n: 0 }), envelope({ n: 1 }), envelope({ n: 2 })));
      let releaseFirst!: () => void;
      const firstHeld = new Promise<void>((resolve) => {
        releaseFirst = resolve;
      });
      const acked: string[] = [];
      const sub = await t.subscribe(spec(dest, 'g'), async (d) => {
        if (text(d) === '{"n":0}') await firstHeld;
        await d.ack();
        acked.push(text(d));
      });
      await waitFor(() => acked.length === 2, { timeoutMs: 20000 });
      const committed = async (): Promise<string | undefined> => {
        const [result] = await admin.fetchOffsets({
          groupId: `${prefix}g.${dest}`,
          topics: [`${prefix}${dest}`],
        });
        return result?.partitions.find((p) => p.partition === 0)?.offset;
      };
      // Offsets 1 and 2 are acked, 0 is not: the committed position stays at 0 (with the started
      // attempt of offset 0 as metadata), never past it.
      expect(await committed()).to.equal('0');
      releaseFirst();
      await waitFor(async () => (await committed()) === '3', { timeoutMs: 10000 });
      await sub.close(2000);
    });

    it('unordered retry goes through a retry topic without blocking the partition', async () => {
      const dest = uniqueName('retry');
      const t = transport({ partitions: 1 });
      await t.provision({ destinations: [{ name: dest, groups: [{ name: 'g', ordered: false }] }] });
      await t.publish(
        dest,
        outgoing(
          envelope({ n: 'slow' }, { partitionKey: 'k' }),
          envelope({ n: 'next' }, { partitionKey: 'k' }),
        ),
      );
      const log: { body: string; attempt: number; at: number; topic: string }[] = [];
      let retriedAt = 0;
      const sub = await t.subscribe(spec(dest, 'g', { concurrency: 1 }), async (d) => {
        log.push({
          body: text(d),
          attempt: d.deliveryAttempt,
          at: Date.now(),
          topic: (d.raw as { topic: string }).topic,
        });
        if (text(d) === '{"n":"slow"}' && d.deliveryAttempt === 1) {
          retriedAt = Date.now();
          await d.retry(800);
          return;
        }
        await d.ack();
      });
      await waitFor(() => log.length === 3, { timeoutMs: 20000 });
      expect(log.map((l) => [l.body, l.attempt])).to.deep.equal([
        ['{"n":"slow"}', 1],
        ['{"n":"next"}', 1],
        ['{"n":"slow"}', 2],
      ]);
      expect(log[2]?.topic).to.equal(`${prefix}${dest}.g.retry-1000`);
      expect((log[2]?.at ?? 0) - retriedAt).to.be.at.least(800);
      await sub.close(2000);
    });

    it('ordered retry runs in place and blocks the key until settled', async () => {
      const dest = uniqueName('ordered');
      const t = transport({ partitions: 1 });
      await t.provision({ destinations: [{ name: dest, groups: [{ name: 'g', ordered: true }] }] });
      await t.publish(
        dest,
        outgoing(envelope({ n: 1 }, { partitionKey: 'k' }), envelope({ n: 2 }, { partitionKey: 'k' })),
      );
      const log: string[] = [];
      const sub = await t.subscribe(spec(dest, 'g', { ordered: true }), async (d) => {
        log.push(`${text(d)}#${String(d.deliveryAttempt)}`);
        if (text(d) === '{"n":1}' && d.deliveryAttempt < 3) {
          await d.retry(200);
          return;
        }
        await d.ack();
      });
      await waitFor(() => log.length === 4, { timeoutMs: 20000 });
      expect(log).to.deep.equal(['{"n":1}#1', '{"n":1}#2', '{"n":1}#3', '{"n":2}#1']);
      await sub.close(2000);
    });

    it('dead-letters the original record with reason, attempts and coordinates', async () => {
      const dest = uniqueName('dlq');
      const t = transport({ partitions: 1 });
      await t.provision({ destinations: [{ name: dest, groups: [{ name: 'g', ordered: false }] }] });
      const e = envelope({ bad: true }, { partitionKey: 'k', headers: { custom: 'kept' } });
      await t.publish(dest, outgoing(e));
      let done = false;
      const sub = await t.subscribe(spec(dest, 'g'), async (d) => {
        if (d.deliveryAttempt === 1) return d.retry(0);
        await d.deadLetter({ code: 'HANDLER_FAILED', message: 'nope', attempts: d.deliveryAttempt });
        done = true;
      });
      await waitFor(() => done, { timeoutMs: 20000 });
      const [record] = await readTopic(kafka, `${prefix}${dest}.g.dlq`, 1);
      expect(record?.key).to.equal('k');
      expect(record?.value?.toString()).to.equal('{"bad":true}');
      expect(record?.headers['custom']).to.equal('kept');
      expect(record?.headers['ce-id']).to.equal(e.id);
      expect(record?.headers['omnibus-dead-letter-code']).to.equal('HANDLER_FAILED');
      expect(record?.headers['omnibus-dead-letter-attempts']).to.equal('2');
      expect(record?.headers[KafkaHeaders.deadLetterTopic]).to.equal(`${prefix}${dest}`);
      expect(record?.headers[KafkaHeaders.deadLetterPartition]).to.equal('0');
      expect(record?.headers[KafkaHeaders.deadLetterOffset]).to.equal('0');
      await sub.close(2000);
    });
  });

  describe('rebalancing', () => {
    it('loses nothing while a second consumer joins and the first leaves during a stream', async function () {
      this.timeout(120_000);
      const dest = uniqueName('rebalance');
      const total = 300;
      const publisher = transport({ partitions: 4 });
      await publisher.provision({ destinations: [{ name: dest, groups: [{ name: 'g', ordered: false }] }] });
      const handled = new Map<string, number>();
      const byConsumer = { a: 0, b: 0 };
      const handler =
        (who: 'a' | 'b') =>
        async (d: Delivery): Promise<void> => {
          await new Promise((r) => setTimeout(r, 5));
          await d.ack();
          handled.set(d.envelope.id, (handled.get(d.envelope.id) ?? 0) + 1);
          byConsumer[who] += 1;
        };
      const a = transport({ partitions: 4 });
      const subA: Subscription = await a.subscribe(spec(dest, 'g'), handler('a'));
      let published = 0;
      const publishSome = async (n: number): Promise<void> => {
        for (let i = 0; i < n; i += 1) {
          await publisher.publish(
            dest,
            outgoing(envelope({ i: published }, { partitionKey: `k${String(published % 17)}` })),
          );
          published += 1;
        }
      };
      await publishSome(100);
      const b = transport({ partitions: 4 });
      const joining = b.subscribe(spec(dest, 'g'), handler('b'));
      await publishSome(100);
      const subB = await joining;
      await waitFor(() => byConsumer.b > 0 || handled.size >= 200, { timeoutMs: 30000 });
      const leaving = subA.close(5000);
      await publishSome(total - 200);
      await leaving;
      await waitFor(() => handled.size === total, {
        timeoutMs: 60000,
        message: `handled ${String(handled.size)} of ${String(total)}`,
      });
      expect(handled.size).to.equal(total);
      expect(byConsumer.b).to.be.greaterThan(0);
      await subB.close(2000);
    });
  });
});
