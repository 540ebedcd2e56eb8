import { expect } from 'chai';
import { ServiceBusError } from '@azure/service-bus';
import { OmnibusError } from '@omnibus/core';
import {
  isAbortError,
  isEntityNotFound,
  isLockLost,
  isNoSessionAvailable,
  mapAzureError,
} from '../src/azure-error-mapper.js';

describe('azure error mapper', () => {
  it('maps the operation to the Omnibus code and keeps the cause', () => {
    const sdk = new ServiceBusError('entity gone', 'MessagingEntityNotFound');
    const mapped = mapAzureError(sdk, 'publish', 'to topic "t"');
    expect(mapped.code).to.equal('PUBLISH_FAILED');
    expect(mapped.retriable).to.equal(false);
    expect(mapped.cause).to.equal(sdk);
    expect(mapped.message).to.contain('MessagingEntityNotFound').and.contain('to topic "t"');
    expect(mapAzureError(sdk, 'connect').code).to.equal('CONNECTION_FAILED');
    expect(mapAzureError(sdk, 'provision').code).to.equal('PROVISIONING_FAILED');
    expect(mapAzureError(sdk, 'settle').code).to.equal('SETTLEMENT_FAILED');
    expect(mapAzureError(sdk, 'subscribe').code).to.equal('SUBSCRIBE_FAILED');
  });

  it('maps message size errors to PAYLOAD_TOO_LARGE', () => {
    expect(mapAzureError(new ServiceBusError('too big', 'MessageSizeExceeded'), 'publish').code).to.equal(
      'PAYLOAD_TOO_LARGE',
    );
    expect(mapAzureError({ statusCode: 413, message: 'too big' }, 'publish').code).to.equal(
      'PAYLOAD_TOO_LARGE',
    );
  });

  it('flags transient failures as retriable', () => {
    for (const code of [
      'ServiceBusy',
      'ServiceTimeout',
      'ServiceCommunicationProblem',
      'SessionCannotBeLocked',
      'QuotaExceeded',
    ] as const) {
      expect(mapAzureError(new ServiceBusError('x', code), 'publish').retriable, code).to.equal(true);
    }
    for (const code of ['UnauthorizedAccess', 'MessagingEntityDisabled', 'MessageLockLost'] as const) {
      expect(mapAzureError(new ServiceBusError('x', code), 'publish').retriable, code).to.equal(false);
    }
    expect(
      mapAzureError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' }), 'connect').retriable,
    ).to.equal(true);
    const wrapped = Object.assign(new Error('ECONNREFUSED: connect ECONNREFUSED 127.0.0.1:9'), {
      code: 'GeneralError',
      retryable: false,
    });
    expect(mapAzureError(wrapped, 'connect').retriable).to.equal(true);
    expect(mapAzureError({ statusCode: 503, message: 'busy' }, 'provision').retriable).to.equal(true);
    expect(mapAzureError({ statusCode: 401, message: 'no' }, 'provision').retriable).to.equal(false);
    expect(mapAzureError(Object.assign(new Error('x'), { retryable: true }), 'publish').retriable).to.equal(
      true,
    );
  });

  it('passes Omnibus errors through', () => {
    const original = new OmnibusError('DELAY_OUT_OF_RANGE', 'x');
    expect(mapAzureError(original, 'publish')).to.equal(original);
  });

  it('classifies lock loss, idle sessions, aborts and missing entities', () => {
    expect(isLockLost(new ServiceBusError('x', 'MessageLockLost'))).to.equal(true);
    expect(isLockLost(mapAzureError(new ServiceBusError('x', 'SessionLockLost'), 'settle'))).to.equal(true);
    expect(isLockLost(new ServiceBusError('x', 'ServiceBusy'))).to.equal(false);
    expect(isNoSessionAvailable(new ServiceBusError('x', 'SessionCannotBeLocked'))).to.equal(true);
    expect(isNoSessionAvailable(new ServiceBusError('x', 'UnauthorizedAccess'))).to.equal(false);
    expect(isAbortError(Object.assign(new Error('aborted'), { name: 'AbortError' }))).to.equal(true);
    expect(isEntityNotFound({ statusCode: 404 })).to.equal(true);
    expect(isEntityNotFound(new ServiceBusError('x', 'MessagingEntityNotFound'))).to.equal(true);
  });
});
