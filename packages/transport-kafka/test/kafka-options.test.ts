import { ErrorCodes, isOmnibusError, redactOptions } from '@omnibus/core';
import { expect } from 'chai';
import { kafkaCapabilities } from '../src/kafka-transport.js';
import { kafkaOptionSchema, parseKafkaOptions } from '../src/kafka-options.js';
import { kafkaTransport } from '../src/kafka-transport-provider.js';

describe('Kafka options', () => {
  it('applies defaults', () => {
    const o = parseKafkaOptions({});
    expect(o.brokers).to.deep.equal(['127.0.0.1:9092']);
    expect(o.provisioning).to.equal('create');
    expect(o.partitions).to.equal(3);
    expect(o.retryTiersMs).to.deep.equal([1000, 10000, 60000, 600000]);
    expect(o.startFrom).to.equal('earliest');
  });

  it('coerces environment-style strings', () => {
    const o = parseKafkaOptions({
      brokers: 'a:9092, b:9092',
      partitions: '6',
      retryTiersMs: '100,2000',
      ssl: 'true',
    });
    expect(o.brokers).to.deep.equal(['a:9092', 'b:9092']);
    expect(o.partitions).to.equal(6);
    expect(o.retryTiersMs).to.deep.equal([100, 2000]);
    expect(o.ssl).to.equal(true);
  });

  it('reports every problem at once', () => {
    try {
      parseKafkaOptions({ partitions: 0, provisioning: 'maybe', bogus: 1 });
      expect.fail('should throw');
    } catch (error) {
      expect(isOmnibusError(error) && error.code).to.equal(ErrorCodes.CONFIGURATION_INVALID);
      const message = (error as Error).message;
      expect(message)
        .to.contain('kafka.partitions')
        .and.contain('kafka.provisioning')
        .and.contain('kafka.bogus');
    }
  });

  it('checks cross-field rules without echoing secrets', () => {
    try {
      parseKafkaOptions({ retryTiersMs: [500, 100], saslMechanism: 'plain', saslPassword: 's3cret' });
      expect.fail('should throw');
    } catch (error) {
      const message = (error as Error).message;
      expect(message).to.contain('retryTiersMs must be strictly ascending').and.contain('saslUsername');
      expect(message).not.to.contain('s3cret');
    }
  });

  it('marks the SASL password as secret', () => {
    const redacted = redactOptions(kafkaOptionSchema, { saslPassword: 's3cret', saslUsername: 'u' });
    expect(redacted['saslPassword']).to.equal('***');
    expect(redacted['saslUsername']).to.equal('u');
  });

  it('derives capabilities from the tiers', () => {
    const caps = kafkaCapabilities(
      parseKafkaOptions({ delayTiersMs: [100, 5000], retryTiersMs: [200, 3000] }),
    );
    expect(caps.delayedDelivery).to.deep.equal({ maxDelayMs: 5000, emulated: true });
    expect(caps.maxRetryDelayMs).to.equal(3000);
    expect(caps.ordering).to.equal('per-key');
    expect(kafkaCapabilities(parseKafkaOptions({ delayTiersMs: [] })).delayedDelivery).to.equal(false);
  });

  it('exposes a provider named kafka', () => {
    expect(kafkaTransport.name).to.equal('kafka');
    expect(kafkaTransport.packageName).to.equal('@omnibus/transport-kafka');
    const transport = kafkaTransport.create({ topicPrefix: 'x.' });
    expect(transport.name).to.equal('kafka');
    expect(transport.status).to.equal('idle');
  });
});
