import { expect } from 'chai';
import { ErrorCodes, OmnibusError } from '@omnibus/core';
import {
  connectionError,
  isChannelGone,
  provisioningError,
  publishError,
  settlementError,
  subscribeError,
  unroutableError,
} from '../src/rabbitmq-error-mapper.js';

function amqpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { code });
}

describe('RabbitMQ error mapper', () => {
  it('maps connection failures to retriable CONNECTION_FAILED with redacted URLs', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5672'), { code: 'ECONNREFUSED' });
    const error = connectionError(refused, ['amqp://user:s3cret@127.0.0.1:5672']);
    expect(error.code).to.equal(ErrorCodes.CONNECTION_FAILED);
    expect(error.retriable).to.equal(true);
    expect(error.message).to.include('amqp://user:***@127.0.0.1:5672');
    expect(error.message).not.to.include('s3cret');
    const denied = connectionError(amqpError(403, 'ACCESS_REFUSED - Login was refused'), ['amqp://h']);
    expect(denied.retriable).to.equal(false);
  });

  it('explains NOT_FOUND and PRECONDITION_FAILED when provisioning or subscribing', () => {
    expect(provisioningError(amqpError(404, "NOT_FOUND - no queue 'q'"), 'queue "q"').message).to.include(
      'provision it',
    );
    const conflict = provisioningError(
      amqpError(406, "PRECONDITION_FAILED - inequivalent arg 'x-queue-type'"),
      'queue "q"',
    );
    expect(conflict.code).to.equal(ErrorCodes.PROVISIONING_FAILED);
    expect(conflict.message).to.include('different arguments');
    expect(subscribeError(amqpError(406, 'PRECONDITION_FAILED'), 'd', 'g').code).to.equal(
      ErrorCodes.SUBSCRIBE_FAILED,
    );
  });

  it('re-codes an OmnibusError cause under the operation that failed, keeping its retriability', () => {
    const cause = new OmnibusError(ErrorCodes.PROVISIONING_FAILED, 'missing', { retriable: false });
    const error = publishError(cause, 'd');
    expect(error.code).to.equal(ErrorCodes.PUBLISH_FAILED);
    expect(error.retriable).to.equal(false);
    expect(error.cause).to.equal(cause);
    const same = new OmnibusError(ErrorCodes.PUBLISH_FAILED, 'x');
    expect(publishError(same, 'd')).to.equal(same);
  });

  it('maps encoding range errors to PAYLOAD_TOO_LARGE and channel loss to retriable errors', () => {
    expect(publishError(new RangeError('headers table too big'), 'd').code).to.equal(
      ErrorCodes.PAYLOAD_TOO_LARGE,
    );
    const gone = Object.assign(new Error('Channel closed'), { name: 'IllegalOperationError' });
    expect(isChannelGone(gone)).to.equal(true);
    expect(publishError(gone, 'd').retriable).to.equal(true);
    expect(unroutableError('d').code).to.equal(ErrorCodes.NO_SUBSCRIBERS);
    expect(unroutableError('d').retriable).to.equal(true);
    expect(settlementError(gone, 'ack', 'd', 'g').code).to.equal(ErrorCodes.SETTLEMENT_FAILED);
  });
});
