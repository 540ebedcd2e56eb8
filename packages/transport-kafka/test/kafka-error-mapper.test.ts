import { ErrorCodes, OmnibusError } from '@omnibus/core';
import { expect } from 'chai';
import { mapKafkaError } from '../src/kafka-error-mapper.js';

function kafkaError(name: string, props: Record<string, unknown> = {}): Error {
  const message = props['message'];
  const error = new Error(typeof message === 'string' ? message : name);
  error.name = name;
  Object.assign(error, props);
  return error;
}

describe('mapKafkaError', () => {
  it('passes OmnibusErrors through', () => {
    const original = new OmnibusError(ErrorCodes.PUBLISH_FAILED, 'x');
    expect(mapKafkaError(original, 'publish')).to.equal(original);
  });

  it('maps connection errors as retriable', () => {
    const mapped = mapKafkaError(
      kafkaError('KafkaJSConnectionError', { message: 'Connection error: ECONNREFUSED' }),
      'connect',
      '127.0.0.1:9092',
    );
    expect(mapped.code).to.equal(ErrorCodes.CONNECTION_FAILED);
    expect(mapped.retriable).to.equal(true);
    expect(mapped.message).to.contain('ECONNREFUSED').and.contain('127.0.0.1:9092');
  });

  it('maps exhausted retries by their cause', () => {
    const cause = kafkaError('KafkaJSConnectionError', { message: 'broker down', retriable: true });
    const error = kafkaError('KafkaJSNumberOfRetriesExceeded', {
      message: 'broker down',
      retriable: false,
      cause,
    });
    const mapped = mapKafkaError(error, 'publish', 'orders');
    expect(mapped.code).to.equal(ErrorCodes.PUBLISH_FAILED);
    expect(mapped.retriable).to.equal(true);
    expect(mapped.cause).to.equal(error);
  });

  it('maps "message too large" to PAYLOAD_TOO_LARGE whatever the operation', () => {
    const error = kafkaError('KafkaJSProtocolError', { type: 'MESSAGE_TOO_LARGE', retriable: false });
    expect(mapKafkaError(error, 'publish').code).to.equal(ErrorCodes.PAYLOAD_TOO_LARGE);
    expect(mapKafkaError(error, 'settle').code).to.equal(ErrorCodes.PAYLOAD_TOO_LARGE);
  });

  it('treats authentication and authorization failures as permanent', () => {
    const error = kafkaError('KafkaJSProtocolError', { type: 'SASL_AUTHENTICATION_FAILED', retriable: true });
    expect(mapKafkaError(error, 'connect').retriable).to.equal(false);
    const denied = kafkaError('KafkaJSNumberOfRetriesExceeded', {
      cause: kafkaError('KafkaJSProtocolError', { type: 'TOPIC_AUTHORIZATION_FAILED' }),
    });
    expect(mapKafkaError(denied, 'provision').code).to.equal(ErrorCodes.PROVISIONING_FAILED);
    expect(mapKafkaError(denied, 'provision').retriable).to.equal(false);
  });

  it('uses the operation code for other errors', () => {
    expect(mapKafkaError(new Error('boom'), 'subscribe').code).to.equal(ErrorCodes.SUBSCRIBE_FAILED);
    expect(mapKafkaError('weird', 'settle').code).to.equal(ErrorCodes.SETTLEMENT_FAILED);
    expect(mapKafkaError('weird', 'settle').message).to.contain('weird');
  });
});
