import { expect } from 'chai';
import { isOmnibusError, redactOptions } from '@omnibus/core';
import { sqsCapabilities, maxPayloadBytes, MAX_DELAY_MS } from '../src/sqs-capabilities.js';
import { parseSqsOptions, sqsOptionSchema } from '../src/sqs-options.js';
import { sqsTransport } from '../src/index.js';

function problems(raw: Record<string, unknown>): string {
  try {
    parseSqsOptions(raw);
  } catch (error) {
    if (isOmnibusError(error) && error.code === 'CONFIGURATION_INVALID') return error.message;
    throw error;
  }
  return '';
}

describe('sqs options', () => {
  it('has production defaults: SNS fan-out, create, 30 s visibility, 5 s long polls', () => {
    const o = parseSqsOptions({});
    expect(o).to.include({
      fanOut: 'sns',
      fifo: false,
      provisioning: 'create',
      visibilityTimeoutSeconds: 30,
      waitTimeSeconds: 5,
      maxReceiveCount: 50,
    });
    expect(o.endpoint).to.equal(undefined);
    expect(o.accessKeyId).to.equal(undefined);
  });

  it('coerces environment-style strings', () => {
    const o = parseSqsOptions({ fifo: 'true', waitTimeSeconds: '1', fanOut: 'none' });
    expect(o).to.include({ fifo: true, waitTimeSeconds: 1, fanOut: 'none' });
  });

  it('lists every problem at once', () => {
    const message = problems({
      fanOut: 'kafka',
      waitTimeSeconds: 25,
      receiveBatchSize: 11,
      accessKeyId: 'AKIA',
      queuePrefix: 'bad.prefix',
      typo: 1,
    });
    expect(message).to.include('fanOut');
    expect(message).to.include('waitTimeSeconds');
    expect(message).to.include('receiveBatchSize');
    expect(message).to.include('typo');
  });

  it('rejects half credentials and bad prefixes', () => {
    expect(problems({ accessKeyId: 'AKIA' })).to.include('secretAccessKey');
    expect(problems({ queuePrefix: 'has.dot' })).to.include('queuePrefix');
    expect(problems({ queuePrefix: 'p'.repeat(41) })).to.include('at most 40');
  });

  it('redacts the secret key and session token', () => {
    const redacted = redactOptions(sqsOptionSchema, {
      accessKeyId: 'AKIA',
      secretAccessKey: 's3cr3t',
      sessionToken: 'tok',
    });
    expect(redacted).to.deep.equal({ accessKeyId: 'AKIA', secretAccessKey: '***', sessionToken: '***' });
  });

  it('exposes the provider under the name "sqs"', () => {
    expect(sqsTransport.name).to.equal('sqs');
    expect(sqsTransport.packageName).to.equal('@omnibus/transport-sqs');
    expect(sqsTransport.optionSchema).to.equal(sqsOptionSchema);
  });
});

describe('sqs capabilities', () => {
  const base = { maxMessageBytes: 262144 };

  it('standard queues without SNS: delays up to 15 min, no ordering, no fan-out', () => {
    const c = sqsCapabilities({ ...base, fifo: false, fanOut: 'none' });
    expect(c).to.include({
      ordering: 'none',
      fanOut: false,
      competingConsumers: true,
      publishDeduplication: false,
      noDuplicatesWithoutFaults: false,
      atomicBatchPublish: false,
    });
    expect(c.delayedDelivery).to.deep.equal({ maxDelayMs: MAX_DELAY_MS, emulated: false });
  });

  it('FIFO: per-key ordering and de-duplication, no per-message delay', () => {
    const c = sqsCapabilities({ ...base, fifo: true, fanOut: 'none' });
    expect(c).to.include({
      ordering: 'per-key',
      publishDeduplication: true,
      noDuplicatesWithoutFaults: true,
      delayedDelivery: false,
    });
  });

  it('SNS: fan-out, no delay (SNS Publish has none)', () => {
    const c = sqsCapabilities({ ...base, fifo: false, fanOut: 'sns' });
    expect(c).to.include({ fanOut: true, delayedDelivery: false });
  });

  it('declares a payload limit that still fits base64 plus the header reserve', () => {
    const limit = maxPayloadBytes(262144);
    expect(Math.ceil(limit / 3) * 4 + 8 * 1024).to.be.at.most(262144);
    expect(sqsCapabilities({ ...base, fifo: false, fanOut: 'none' }).maxPayloadBytes).to.equal(limit);
  });
});
