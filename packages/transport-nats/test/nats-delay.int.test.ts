// Delayed delivery on nats-server 2.9 (delay stream + forwarder, docs/transports/nats.md): a
// delayed message outlives the transport that published it. Real server, no mocks.
import { expect } from 'chai';
import { createEnvelope } from '@omnibus/core';
import type { Delivery } from '@omnibus/core';
import { waitFor } from '@omnibus/core/adapter-kit';
import { NatsTransport } from '../src/index.js';
import type { NatsTransportInput } from '../src/index.js';
import { NATS_URL, NativeClient, ensureNats, uniquePrefix } from './nats-test-support.js';

const DELAY_MS = 1_500;

describe('NATS delayed delivery (delay stream and forwarder)', function () {
  this.timeout(60_000);
  const options: NatsTransportInput = {
    servers: [NATS_URL],
    prefix: uniquePrefix('delay'),
    reconnectWaitMs: 100,
    // A short ack wait: what a dead forwarder held comes back to the others sooner.
    ackWaitMs: 2_000,
    publishTimeoutMs: 10_000,
  };
  const native = new NativeClient(options.prefix as string);
  const opened: NatsTransport[] = [];
  const open = (): NatsTransport => {
    const transport = new NatsTransport(options);
    opened.push(transport);
    return transport;
  };

  before(async function () {
    this.timeout(120_000);
    await ensureNats();
  });

  after(async () => {
    await Promise.all(opened.map((transport) => transport.close(2_000)));
    await native.cleanup();
  });

  for (const end of ['closes', 'loses its connection'] as const) {
    it(`a delayed message whose publisher ${end} before it is due is forwarded by another transport once due, as attempt 1, once`, async () => {
      const destination = `d-${end.replace(/\W+/g, '-')}`;
      const consumer = open();
      await consumer.provision({
        destinations: [{ name: destination, groups: [{ name: 'g', ordered: false }] }],
      });
      const received: { delivery: Delivery; at: number }[] = [];
      await consumer.subscribe(
        { destination, group: 'g', concurrency: 4, ordered: false, handlerTimeoutMs: 10_000 },
        async (delivery) => {
          received.push({ delivery, at: Date.now() });
          await delivery.ack();
        },
      );
      const publisher = open();
      const delayed = createEnvelope({
        type: 't',
        payload: new Uint8Array([1]),
        contentType: 'application/octet-stream',
      });
      const marker = createEnvelope({
        type: 't',
        payload: new Uint8Array([2]),
        contentType: 'application/octet-stream',
      });
      const before = Date.now();
      await publisher.publish(destination, [{ envelope: delayed, delayMs: DELAY_MS }]);
      // The publisher's own forwarder pulls the message at once (and naks it until due): ending
      // the publisher now leaves the message to the consumer's forwarder.
      if (end === 'closes') await publisher.close(2_000);
      else await publisher.raw()?.close();
      await waitFor(() => received.some((r) => r.delivery.envelope.id === delayed.id), {
        timeoutMs: 30_000,
        message: 'the delayed message',
      });
      const first = received.find((r) => r.delivery.envelope.id === delayed.id);
      expect(first?.delivery.deliveryAttempt, 'the destination counts attempts from 1').to.equal(1);
      expect((first?.at ?? 0) - before, 'not delivered before its delay').to.be.at.least(DELAY_MS - 50);
      // An undelayed message published after it arrives after it; a duplicate forward would
      // come with the same id (the consumer's group counts each).
      await consumer.publish(destination, [{ envelope: marker }]);
      await waitFor(() => received.some((r) => r.delivery.envelope.id === marker.id), {
        timeoutMs: 30_000,
        message: 'the undelayed marker',
      });
      expect(received.filter((r) => r.delivery.envelope.id === delayed.id)).to.have.length(1);
      const manager = await native.manager();
      const delays = await manager.streams.info(consumer.names.delayStream());
      expect(delays.state.messages, 'the forwarded message left the delay stream').to.equal(0);
    });
  }
});
