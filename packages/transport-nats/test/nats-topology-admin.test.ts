import { expect } from 'chai';
import type { JetStreamManager } from '@nats-io/jetstream';
import { ErrorCodes, isOmnibusError } from '@omnibus/core';
import { NatsNames } from '../src/index.js';
import { JetStreamErrorCodes } from '../src/nats-error-mapper.js';
import { deleteNatsTopology } from '../src/nats-topology-admin.js';

const names = new NatsNames('p', 2);
const topology = { destinations: [{ name: 'd', groups: [{ name: 'g', ordered: false }] }] };

/** An error shaped like the client's JetStreamApiError (err_code in `code`). */
function apiError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

/** A JetStream manager whose calls are answered by `answer`, recording each call. */
function fakeManager(answer: (call: string) => Promise<unknown>): { jsm: JetStreamManager; calls: string[] } {
  const calls: string[] = [];
  const call = (name: string): Promise<unknown> => {
    calls.push(name);
    return answer(name);
  };
  const jsm = {
    consumers: { delete: (stream: string, consumer: string) => call(`consumer ${stream}/${consumer}`) },
    streams: {
      delete: (stream: string) => call(`stream ${stream}`),
      purge: (stream: string, opts: { filter: string }) => call(`purge ${stream}/${opts.filter}`),
    },
  } as unknown as JetStreamManager;
  return { jsm, calls };
}

async function rejection(work: Promise<unknown>): Promise<unknown> {
  return work.then(
    () => expect.fail('expected a rejection'),
    (error: unknown) => error,
  );
}

describe('deleteNatsTopology', () => {
  it('deletes the group consumers, purges the group dead letters, then deletes the stream', async () => {
    const { jsm, calls } = fakeManager(() => Promise.resolve(true));
    await deleteNatsTopology(jsm, names, topology, 1000);
    expect(calls).to.deep.equal(['consumer p_d/g', 'purge p_dead-letters/p.~dlq.d.g', 'stream p_d']);
  });

  it('skips a missing stream or consumer', async () => {
    const { jsm, calls } = fakeManager((name) =>
      Promise.reject(
        name.startsWith('consumer')
          ? apiError(JetStreamErrorCodes.CONSUMER_NOT_FOUND, 'consumer not found')
          : apiError(JetStreamErrorCodes.STREAM_NOT_FOUND, 'stream not found'),
      ),
    );
    await deleteNatsTopology(jsm, names, topology, 1000);
    expect(calls).to.have.length(3);
  });

  it('a refusal rejects at once with a mapped, final PROVISIONING_FAILED naming the object', async () => {
    const { jsm, calls } = fakeManager(() => Promise.reject(new Error('Permissions Violation for Publish')));
    const error = await rejection(deleteNatsTopology(jsm, names, topology, 1000));
    expect(isOmnibusError(error) && error.code).to.equal(ErrorCodes.PROVISIONING_FAILED);
    expect(isOmnibusError(error) && error.retriable).to.equal(false);
    expect((error as Error).message).to.contain('consumer "g" of stream "p_d"');
    expect(calls).to.have.length(1);
  });

  it('retries transient failures and is bounded: a retriable PROVISIONING_FAILED names what is left', async () => {
    const { jsm, calls } = fakeManager((name) =>
      name.startsWith('consumer') ? Promise.resolve(true) : Promise.reject(new Error('TIMEOUT')),
    );
    const error = await rejection(deleteNatsTopology(jsm, names, topology, 600));
    expect(isOmnibusError(error) && error.code).to.equal(ErrorCodes.PROVISIONING_FAILED);
    expect(isOmnibusError(error) && error.retriable).to.equal(true);
    expect((error as Error).message)
      .to.contain('dead letters "p.~dlq.d.g"')
      .and.contain('stream "p_d"');
    expect(calls.filter((c) => c.startsWith('purge')).length).to.be.greaterThan(1);
  });

  it('a server that never answers is bounded too', async () => {
    const { jsm } = fakeManager(() => new Promise(() => undefined));
    const error = await rejection(deleteNatsTopology(jsm, names, topology, 50));
    expect(isOmnibusError(error) && error.retriable).to.equal(true);
    expect((error as Error).message).to.contain('left: consumer "g" of stream "p_d"');
  });
});
