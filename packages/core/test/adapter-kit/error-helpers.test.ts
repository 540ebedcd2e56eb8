import { expect } from 'chai';
import { OmnibusError } from '../../src/index.js';
import {
  closedTransportError,
  describeError,
  redactedError,
  wrapError,
} from '../../src/adapter-kit/index.js';

const secretUrl = 'amqp://user:s3cret@broker:5672';

describe('adapter kit: error helpers', () => {
  it('describeError redacts credentials in the text of an Error and of anything else', () => {
    expect(describeError(new Error(`cannot reach ${secretUrl}`))).to.not.contain('s3cret');
    expect(describeError(new Error(`cannot reach ${secretUrl}`))).to.contain('cannot reach amqp://');
    expect(describeError(`down: ${secretUrl}`)).to.not.contain('s3cret');
    expect(describeError(42)).to.equal('42');
  });

  it('wrapError keeps the cause, the retriable flag given and redacts the message', () => {
    const cause = new Error('boom');
    const wrapped = wrapError('PUBLISH_FAILED', `publish via ${secretUrl} failed`, cause, true);
    expect(wrapped).to.be.instanceOf(OmnibusError);
    expect(wrapped.code).to.equal('PUBLISH_FAILED');
    expect(wrapped.retriable).to.equal(true);
    expect(wrapped.cause).to.equal(cause);
    expect(wrapped.message).to.not.contain('s3cret');
  });

  it('wrapError returns an OmnibusError of the same code unchanged and wraps one of another code keeping its retriable', () => {
    const same = new OmnibusError('PUBLISH_FAILED', 'x', { retriable: false });
    expect(wrapError('PUBLISH_FAILED', 'y', same, true)).to.equal(same);
    const other = new OmnibusError('CONNECTION_FAILED', 'x', { retriable: false });
    const wrapped = wrapError('PUBLISH_FAILED', 'y', other, true);
    expect(wrapped.code).to.equal('PUBLISH_FAILED');
    expect(wrapped.retriable).to.equal(false);
    expect(wrapped.cause).to.equal(other);
  });

  it('closedTransportError is BUS_CLOSED, not retriable, naming the transport and the operation when given', () => {
    const withOperation = closedTransportError('NATS', 'publish');
    expect(withOperation.code).to.equal('BUS_CLOSED');
    expect(withOperation.retriable).to.equal(false);
    expect(withOperation.message).to.equal('NATS transport is closed: cannot publish');
    expect(closedTransportError('SQS').message).to.equal('SQS transport is closed');
  });

  it('redactedError keeps the name, redacts the message and keeps the original as cause', () => {
    const original = new TypeError(`bad ${secretUrl}`);
    const copy = redactedError(original);
    expect(copy.name).to.equal('TypeError');
    expect(copy.message).to.not.contain('s3cret');
    expect(copy.cause).to.equal(original);
    expect(redactedError('text').message).to.equal('text');
  });
});
