import { expect } from 'chai';
import { ErrorCodes, noSubscribersError } from '@omnibus/core';
import { isTransient, publishError } from '../src/nats-error-mapper.js';

/** An error as the NATS client raises it, with its name and message. */
function natsError(name: string, message: string): Error {
  const error = new Error(message);
  error.name = name;
  return error;
}

describe('NATS error mapper', () => {
  it('treats JetStream not (yet) running after a server restart as transient, with a hint that says so', () => {
    const error = natsError('Error', 'jetstream is not enabled');
    expect(isTransient(error)).to.equal(true);
    const mapped = publishError(error, 'orders');
    expect(mapped.code).to.equal(ErrorCodes.PUBLISH_FAILED);
    expect(mapped.retriable).to.equal(true);
    expect(mapped.message).to.contain('still starting after a restart');
    expect(mapped.message).not.to.contain('provision the destination');
  });

  it('names provisioning when no stream captures the subject', () => {
    const mapped = publishError(natsError('NoRespondersError', 'no responders: orders.p0'), 'orders');
    expect(mapped.message).to.contain('provision the destination first');
  });

  it('does not retry a refusal that no wait can fix', () => {
    expect(isTransient(natsError('Error', 'permissions violation for publish'))).to.equal(false);
  });

  it('keeps an already typed publish failure as it is (NO_SUBSCRIBERS stays NO_SUBSCRIBERS)', () => {
    const refused = noSubscribersError('NATS', 'orders');
    expect(publishError(refused, 'orders')).to.equal(refused);
  });
});
