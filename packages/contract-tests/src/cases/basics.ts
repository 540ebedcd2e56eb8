import type { Transport, TransportStatus } from '@omnibus/core';
import { expect } from 'chai';
import type { ContractCaseGroup } from '../contract-case.js';
import { describeBytesDiff, sameBytes } from '../support/test-envelope.js';
import { binaryPayload, expectOmnibusRejection, expectSameIds, receivedIds } from './case-helpers.js';

/** A. Publish / subscribe basics, provisioning, lifecycle and publish confirmation. */
export const basicsCases: ContractCaseGroup = {
  letter: 'A',
  title: 'publish / subscribe basics',
  cases: [
    {
      id: 'A1',
      rules: [2, 9],
      title: 'a published message is delivered once, byte-exact, with attempt 1, its destination and group',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const group = groups[0] as string;
        const consumer = await ctx.consume(t, { destination, group });
        const sent = ctx.envelope({ payload: binaryPayload(), contentType: 'application/octet-stream' });
        await ctx.publish(t, destination, [sent]);
        await ctx.waitForIds(consumer, [sent.id], 'the message to arrive');
        await ctx.waitForLedger();
        const got = consumer.received[0]?.delivery;
        expect(got, 'delivery').to.not.equal(undefined);
        if (got === undefined) return;
        expect(
          sameBytes(got.envelope.payload, sent.payload),
          `payload: ${describeBytesDiff(sent.payload, got.envelope.payload)}`,
        ).to.equal(true);
        expect(got.envelope.type).to.equal(sent.type);
        expect(got.envelope.contentType).to.equal(sent.contentType);
        expect(got.deliveryAttempt, 'deliveryAttempt of a first delivery').to.equal(1);
        expect(got.destination).to.equal(destination);
        expect(got.group).to.equal(group);
        expect(got.receivedAt).to.be.instanceOf(Date);
        expect(consumer.received.length, 'deliveries').to.equal(1);
      },
    },
    {
      id: 'A2',
      rules: [1],
      title: '50 messages published before anyone subscribes all arrive (set equality)',
      async run(ctx) {
        const t = await ctx.transport();
        const { destination, groups } = await ctx.topology(t);
        const sent = ctx.envelopes(50);
        for (let i = 0; i < sent.length; i += 10) {
          await Promise.all(sent.slice(i, i + 10).map((e) => ctx.publish(t, destination, [e])));
        }
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string, concurrency: 5 });
        await ctx.waitForIds(
          consumer,
          sent.map((e) => e.id),
          'all 50 messages',
          10_000,
        );
        await ctx.waitForLedger();
        expectSameIds(
          receivedIds(consumer),
          sent.map((e) => e.id),
          'received set',
        );
      },
    },
    {
      id: 'A3',
      rules: [6],
      title: 'destinations are isolated: each subscriber gets exactly its own destination’s messages',
      async run(ctx) {
        const t = await ctx.transport();
        const topologies = await Promise.all([1, 2, 3].map(() => ctx.topology(t)));
        const consumers = await Promise.all(
          topologies.map((tp) =>
            ctx.consume(t, { destination: tp.destination, group: tp.groups[0] as string, concurrency: 2 }),
          ),
        );
        const sent = topologies.map(() => ctx.envelopes(5));
        await Promise.all(topologies.map((tp, i) => ctx.publish(t, tp.destination, sent[i] ?? [])));
        await ctx.waitForLedger('every destination’s messages to be settled', 10_000);
        consumers.forEach((c, i) =>
          expectSameIds(
            receivedIds(c),
            (sent[i] ?? []).map((e) => e.id),
            `destination #${String(i)}`,
          ),
        );
      },
    },
    {
      id: 'A4',
      rules: [2, 12],
      title:
        'publishing to or subscribing to an unprovisioned destination rejects with an OmnibusError; provision is idempotent',
      async run(ctx) {
        const t = await ctx.transport();
        const missing = ctx.name('missing');
        await expectOmnibusRejection(
          t.publish(missing, [{ envelope: ctx.envelope() }]),
          'publish to an unprovisioned destination',
        );
        await expectOmnibusRejection(
          t.subscribe(
            {
              destination: missing,
              group: ctx.name('g'),
              concurrency: 1,
              ordered: false,
              handlerTimeoutMs: 1000,
            },
            (d) => d.ack(),
          ),
          'subscribe to an unprovisioned destination',
        );
        const { destination, groups } = await ctx.topology(t);
        const spec = {
          destinations: [{ name: destination, groups: groups.map((name) => ({ name, ordered: false })) }],
        };
        await t.provision(spec);
        await t.provision(spec);
        const consumer = await ctx.consume(t, { destination, group: groups[0] as string });
        const sent = ctx.envelope();
        await ctx.publish(t, destination, [sent]);
        await ctx.waitForIds(consumer, [sent.id], 'the message after re-provisioning');
      },
    },
    {
      id: 'A5',
      rules: [2],
      title:
        'a publish-only transport connects, publishes and closes; an idle subscription receives only what is published',
      async run(ctx) {
        const consumerTransport = await ctx.transport();
        const { destination, groups } = await ctx.topology(consumerTransport);
        const consumer = await ctx.consume(consumerTransport, { destination, group: groups[0] as string });
        const publisher = await ctx.transport();
        const sent = ctx.envelopes(3);
        await ctx.publish(publisher, destination, sent);
        await publisher.close(1000);
        await ctx.waitForIds(
          consumer,
          sent.map((e) => e.id),
          'messages from the publish-only transport',
        );
        await ctx.waitForLedger();
        expect(consumer.received.length).to.equal(3);
      },
    },
    {
      id: 'A6',
      rules: [2],
      title: 'three transports publishing 20 messages each concurrently lose nothing',
      async run(ctx) {
        const consumerTransport = await ctx.transport();
        const { destination, groups } = await ctx.topology(consumerTransport);
        const consumer = await ctx.consume(consumerTransport, {
          destination,
          group: groups[0] as string,
          concurrency: 4,
        });
        const publishers = await Promise.all([1, 2, 3].map(() => ctx.transport()));
        const batches = publishers.map(() => ctx.envelopes(20));
        await Promise.all(
          publishers.map((p, i) =>
            Promise.all((batches[i] ?? []).map((e) => ctx.publish(p, destination, [e]))),
          ),
        );
        await ctx.waitForLedger('all 60 messages to be settled', 10_000);
        expectSameIds(
          receivedIds(consumer),
          batches.flat().map((e) => e.id),
          'received set',
        );
      },
    },
    {
      id: 'A7',
      rules: [2],
      title:
        'a resolved publish is durable: a transport created afterwards consumes it even though the publisher closed at once',
      async run(ctx) {
        const publisher = await ctx.transport();
        const { destination, groups } = await ctx.topology(publisher);
        const sent = ctx.envelopes(10);
        await ctx.publish(publisher, destination, sent.slice(0, 5));
        await Promise.all(sent.slice(5).map((e) => ctx.publish(publisher, destination, [e])));
        await publisher.close(0);
        const consumerTransport = await ctx.transport();
        const consumer = await ctx.consume(consumerTransport, {
          destination,
          group: groups[0] as string,
          concurrency: 2,
        });
        await ctx.waitForIds(
          consumer,
          sent.map((e) => e.id),
          'every confirmed message',
        );
      },
    },
    {
      id: 'A8',
      rules: [10, 11],
      title: 'status is ready after connect (idempotent) and closed after close, with listeners notified',
      async run(ctx) {
        const t: Transport = await ctx.options.createTransport();
        const seen: TransportStatus[] = [];
        const dispose = t.onStatusChange((status) => seen.push(status));
        try {
          await Promise.all([t.connect(), t.connect()]);
          await t.connect();
          expect(t.status).to.equal('ready');
          await t.close(100);
          expect(t.status).to.equal('closed');
          expect(seen, 'status listener calls').to.include('closed');
          expect(seen[seen.length - 1]).to.equal('closed');
          await expectOmnibusRejection(
            t.publish(ctx.name('d'), [{ envelope: ctx.envelope() }]),
            'publish after close',
          );
        } finally {
          dispose();
          await t.close(0);
        }
      },
    },
  ],
};
