// deleteTopology and inspectTopology against a real nats-server, checked out of band with a
// JetStream manager of its own (never the adapter under test): a bus's reply destination is gone
// after stop, and the same check sees it left behind when the deletion is disabled.
import { expect } from 'chai';
import { EventHandler, createEventBus, defineRequest } from '@omnibus/core';
import type { TopologySpec } from '@omnibus/core';
import { NatsTransport } from '../src/index.js';
import type { NatsTransportInput } from '../src/index.js';
import { JetStreamErrorCodes, jetStreamErrorCode } from '../src/nats-error-mapper.js';
import { NATS_URL, NativeClient, ensureNats, uniquePrefix } from './nats-test-support.js';

const options: NatsTransportInput = {
  servers: [NATS_URL],
  prefix: uniquePrefix('topology'),
  reconnectWaitMs: 100,
};
const native = new NativeClient(options.prefix as string);
const transports: NatsTransport[] = [];

function transport(extra: Partial<NatsTransportInput> = {}): NatsTransport {
  const t = new NatsTransport({ ...options, ...extra });
  transports.push(t);
  return t;
}

/** Whether a stream (and, given, one of its consumers) exists, asked of the server out of band. */
async function exists(stream: string, consumer?: string): Promise<boolean> {
  const jsm = await native.manager();
  try {
    if (consumer === undefined) await jsm.streams.info(stream);
    else await jsm.consumers.info(stream, consumer);
    return true;
  } catch (error) {
    const code = jetStreamErrorCode(error);
    if (code === JetStreamErrorCodes.STREAM_NOT_FOUND || code === JetStreamErrorCodes.CONSUMER_NOT_FOUND)
      return false;
    throw error;
  }
}

/** Run a bus that sends one request and stops; returns its reply destination. */
async function requestAndStop(t: NatsTransport): Promise<string> {
  const Quote = defineRequest<{ kg: number }, { cents: number }>(`${uniquePrefix('quote')}.v1`, {
    destination: uniquePrefix('quotes'),
  });
  class Quotes {
    @EventHandler(Quote, { group: uniquePrefix('g') })
    quote(request: { kg: number }): { cents: number } {
      return { cents: request.kg * 150 };
    }
  }
  const bus = createEventBus({ transport: t, handlers: [Quotes] });
  await bus.start();
  let replyDestination: string | undefined;
  try {
    expect(await bus.request(Quote, { kg: 2 }, { timeoutMs: 20_000 })).to.deep.equal({ cents: 300 });
    replyDestination = bus.requestStats().replyDestination;
    expect(replyDestination).to.be.a('string');
    const stream = native.names.stream(String(replyDestination));
    const consumer = native.names.groupConsumer(String(replyDestination));
    expect(await exists(stream), 'reply stream while running').to.equal(true);
    expect(await exists(stream, consumer), 'reply consumer while running').to.equal(true);
  } finally {
    await bus.stop({ drainTimeoutMs: 2000 });
  }
  return String(replyDestination);
}

const replyTopology = (replyDestination: string): TopologySpec => ({
  destinations: [{ name: replyDestination, groups: [{ name: replyDestination, ordered: false }] }],
});

before(async function () {
  this.timeout(120_000);
  await ensureNats();
});

after(async function () {
  this.timeout(60_000);
  await Promise.all(transports.map((t) => t.close(1000)));
  await native.cleanup();
});

describe('NATS topology deletion and inspection', function () {
  this.timeout(60_000);

  it('stop deletes the reply stream and its consumer; deleting again is a no-op', async () => {
    const replyDestination = await requestAndStop(transport());
    const stream = native.names.stream(replyDestination);
    expect(
      await exists(stream, native.names.groupConsumer(replyDestination)),
      'reply consumer after stop',
    ).to.equal(false);
    expect(await exists(stream), 'reply stream after stop').to.equal(false);
    const again = transport();
    await again.deleteTopology(replyTopology(replyDestination));
    const inspection = await again.inspectTopology(replyTopology(replyDestination));
    expect(
      inspection.items.filter((item) => item.state === 'present' && item.shared !== true),
      'objects left',
    ).to.deep.equal([]);
  });

  it('with the deletion disabled the same check finds the reply stream and consumer left behind', async () => {
    const t = transport();
    // The bus removes its reply destination only where the transport has deleteTopology.
    Object.defineProperty(t, 'deleteTopology', { value: undefined });
    const replyDestination = await requestAndStop(t);
    const stream = native.names.stream(replyDestination);
    expect(await exists(stream), 'reply stream after stop').to.equal(true);
    expect(
      await exists(stream, native.names.groupConsumer(replyDestination)),
      'reply consumer after stop',
    ).to.equal(true);
    const inspection = await transport().inspectTopology(replyTopology(replyDestination));
    expect(inspection.items.map((item) => [item.kind, item.state])).to.deep.equal([
      ['destination', 'present'],
      ['group', 'present'],
      ['dead-letter', 'present'],
    ]);
    await transport().deleteTopology(replyTopology(replyDestination));
    expect(await exists(stream), 'reply stream after deleteTopology').to.equal(false);
  });

  it('deletes every consumer of an ordered group and the group\u2019s dead letters; a later provision recreates them; verify mode deletes nothing', async () => {
    const destination = uniquePrefix('d');
    const topology: TopologySpec = {
      destinations: [
        {
          name: destination,
          groups: [
            { name: 'ordered', ordered: true },
            { name: 'plain', ordered: false },
          ],
        },
      ],
    };
    const t = transport({ orderedPartitions: 2 });
    await t.provision(topology);
    const names = t.names;
    const stream = names.stream(destination);
    // A dead letter of the plain group, written out of band to its subject.
    const { jetstream } = await import('@nats-io/jetstream');
    await jetstream(await native.connection()).publish(names.deadLetterSubject(destination, 'plain'), 'x');
    const jsm = await native.manager();
    const deadLetters = async (): Promise<number> =>
      (
        await jsm.streams.info(names.deadLetterStream(), {
          subjects_filter: names.deadLetterSubject(destination, 'plain'),
        })
      ).state.subjects?.[names.deadLetterSubject(destination, 'plain')] ?? 0;
    expect(await deadLetters()).to.equal(1);

    await transport({ orderedPartitions: 2, provisioning: 'verify' }).deleteTopology(topology);
    expect(await exists(stream, names.orderedConsumer('ordered', 1)), 'verify mode deletes nothing').to.equal(
      true,
    );

    await t.deleteTopology(topology);
    expect(await exists(stream)).to.equal(false);
    expect(await deadLetters(), 'the group\u2019s dead letters').to.equal(0);
    expect(await exists(names.deadLetterStream()), 'the shared dead-letter stream stays').to.equal(true);
    const inspection = await t.inspectTopology(topology);
    expect(inspection.items.map((item) => [item.kind, item.group, item.state])).to.deep.equal([
      ['destination', undefined, 'missing'],
      ['group', 'ordered', 'missing'],
      ['dead-letter', 'ordered', 'present'],
      ['group', 'plain', 'missing'],
      ['dead-letter', 'plain', 'present'],
    ]);

    await t.provision(topology);
    for (const consumer of [
      names.orderedConsumer('ordered', 0),
      names.orderedConsumer('ordered', 1),
      'plain',
    ])
      expect(await exists(stream, consumer), consumer).to.equal(true);
  });
});
