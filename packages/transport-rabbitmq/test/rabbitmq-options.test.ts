import { expect } from 'chai';
import { isOmnibusError } from '@omnibus/core';
import {
  DEFAULT_DELAY_TIERS_MS,
  RabbitMqTransport,
  rabbitmqTransport,
  resolveRabbitMqOptions,
} from '../src/index.js';
import { buildUrl } from '../src/rabbitmq-connection.js';

function failure(raw: Record<string, unknown>): Error {
  try {
    resolveRabbitMqOptions(raw);
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the options to be rejected');
}

describe('RabbitMQ options', () => {
  it('applies defaults', () => {
    const options = resolveRabbitMqOptions({});
    expect(options.urls).to.deep.equal(['amqp://guest:guest@127.0.0.1:5672']);
    expect(options.queueType).to.equal('quorum');
    expect(options.provisioning).to.equal('create');
    expect(options.prefix).to.equal('omnibus');
    expect(options.prefetch).to.equal(0);
    expect(options.delayTiersMs).to.deep.equal(DEFAULT_DELAY_TIERS_MS);
  });

  it('coerces environment-style strings and sorts delay tiers', () => {
    const options = resolveRabbitMqOptions({
      urls: 'amqp://a:5672, amqps://b:5671',
      prefetch: '32',
      tlsRejectUnauthorized: 'false',
      delayTiersMs: '5000,100,1000,100',
    });
    expect(options.urls).to.deep.equal(['amqp://a:5672', 'amqps://b:5671']);
    expect(options.prefetch).to.equal(32);
    expect(options.tlsRejectUnauthorized).to.equal(false);
    expect(options.delayTiersMs).to.deep.equal([100, 1000, 5000]);
  });

  it('reports every problem at once with CONFIGURATION_INVALID', () => {
    const error = failure({
      queueType: 'stream',
      prefetch: -1,
      prefix: 'bad prefix/',
      urls: ['http://x'],
      typo: 1,
    });
    expect(isOmnibusError(error) && error.code).to.equal('CONFIGURATION_INVALID');
    expect(error.message).to.include('rabbitmq.queueType');
    expect(error.message).to.include('rabbitmq.prefetch');
    expect(error.message).to.include('rabbitmq.typo');
    // Cross-field rules run only once the basic shape is valid.
    const second = failure({ prefix: 'bad prefix/', urls: ['http://x'] });
    expect(second.message).to.include('rabbitmq.prefix');
    expect(second.message).to.include('amqp:// or amqps://');
  });

  it('accepts a single url as shorthand for urls, but not both', () => {
    expect(resolveRabbitMqOptions({ url: 'amqps://broker:5671/vh' }).urls).to.deep.equal([
      'amqps://broker:5671/vh',
    ]);
    expect(failure({ url: 'amqp://a', urls: ['amqp://b'] }).message).to.include('use one of them');
    expect(failure({ url: 'http://a' }).message).to.include('amqp:// or amqps://');
  });

  it('never shows secrets in errors', () => {
    const error = failure({ urls: ['amqp://user:s3cret@host:5672'], password: 'hunter2', queueType: 'nope' });
    expect(error.message).not.to.include('s3cret');
    expect(error.message).not.to.include('hunter2');
  });

  it('builds connection URLs with heartbeat and overriding credentials', () => {
    const options = resolveRabbitMqOptions({
      urls: ['amqp://a:b@host:5672/vh'],
      username: 'u@x',
      password: 'p/w',
      heartbeatSeconds: 7,
    });
    const url = new URL(buildUrl('amqp://a:b@host:5672/vh', options));
    expect(url.searchParams.get('heartbeat')).to.equal('7');
    expect(decodeURIComponent(url.username)).to.equal('u@x');
    expect(decodeURIComponent(url.password)).to.equal('p/w');
    expect(url.pathname).to.equal('/vh');
  });

  it('exposes a provider named rabbitmq that creates an unconnected transport', () => {
    expect(rabbitmqTransport.name).to.equal('rabbitmq');
    expect(rabbitmqTransport.packageName).to.equal('@omnibus/transport-rabbitmq');
    const transport = rabbitmqTransport.create({ delayTiersMs: [100, 60_000] });
    expect(transport).to.be.instanceOf(RabbitMqTransport);
    expect(transport.status).to.equal('idle');
    expect(transport.capabilities.delayedDelivery).to.deep.equal({ maxDelayMs: 60_000, emulated: true });
    expect(transport.capabilities.maxRetryDelayMs).to.equal(60_000);
  });
});
