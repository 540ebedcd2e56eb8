import { expect } from 'chai';
import { ErrorCodes, isOmnibusError } from '@omnibus/core';
import {
  DEFAULT_SERVER,
  NatsTransport,
  natsCapabilities,
  natsTransport,
  resolveNatsOptions,
} from '../src/index.js';

function failure(raw: Record<string, unknown>): Error {
  try {
    resolveNatsOptions(raw);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the options to be rejected');
}

describe('NATS options', () => {
  it('applies defaults', () => {
    const options = resolveNatsOptions({});
    expect(options.servers).to.deep.equal([DEFAULT_SERVER]);
    expect(options.prefix).to.equal('omnibus');
    expect(options.provisioning).to.equal('create');
    expect(options.storage).to.equal('file');
    expect(options.connectTimeoutMs).to.equal(10_000);
    expect(options.duplicateWindowMs).to.equal(120_000);
  });

  it('coerces environment-style strings', () => {
    const options = resolveNatsOptions({ servers: 'nats://a:4222, b:4223', ackWaitMs: '5000' });
    expect(options.servers).to.deep.equal(['nats://a:4222', 'b:4223']);
    expect(options.ackWaitMs).to.equal(5_000);
  });

  it('rejects every problem in one CONFIGURATION_INVALID error, secrets redacted', () => {
    const error = failure({ servers: ['http://x:1'], prefix: 'bad.prefix', password: 'hunter2' });
    expect(isOmnibusError(error) && error.code).to.equal(ErrorCodes.CONFIGURATION_INVALID);
    expect(error.message).to.contain('nats.prefix');
    expect(error.message).to.contain('nats.servers[0]');
    expect(error.message).to.contain('nats.password needs nats.username');
    expect(error.message).not.to.contain('hunter2');
    const range = failure({ ackWaitMs: 10, orderedPartitions: 0 });
    expect(range.message).to.contain('ackWaitMs');
    expect(range.message).to.contain('orderedPartitions');
  });

  it('declares de-duplication only with a duplicate window, restart survival only with file storage, emulated delays up to maxRetryDelayMs', () => {
    const defaults = natsCapabilities(resolveNatsOptions({}));
    expect(defaults.publishDeduplication).to.equal(true);
    expect(defaults.survivesBrokerRestart).to.equal(true);
    expect(defaults.delayedDelivery).to.deep.equal({ maxDelayMs: 86_400_000, emulated: true });
    const short = natsCapabilities(resolveNatsOptions({ maxRetryDelayMs: 60_000 }));
    expect(short.delayedDelivery).to.deep.equal({ maxDelayMs: 60_000, emulated: true });
    const plain = natsCapabilities(resolveNatsOptions({ duplicateWindowMs: 0, storage: 'memory' }));
    expect(plain.publishDeduplication).to.equal(false);
    expect(plain.survivesBrokerRestart).to.equal(false);
  });

  it('the provider creates an unconnected transport and validates its options', () => {
    const transport = natsTransport.create({ prefix: 'p1' });
    expect(transport).to.be.instanceOf(NatsTransport);
    expect(transport.status).to.equal('idle');
    expect(() => natsTransport.create({ maxDeliver: 1 })).to.throw(/maxDeliver/);
  });
});
