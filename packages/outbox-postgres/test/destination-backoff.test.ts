// The relay's per-destination backoff and which publish errors concern one destination only.
import { expect } from 'chai';
import { ErrorCodes, OmnibusError } from '@omnibus/core';
import { DestinationBackoff } from '../src/relay/backoff.js';
import { refusesDestination } from '../src/relay/dispatch-batch.js';

describe('outbox relay: per-destination refusals', () => {
  it('NO_SUBSCRIBERS (retriable) and non-retriable Omnibus errors concern their destination; retriable and unknown errors the whole transport', () => {
    expect(
      refusesDestination(new OmnibusError(ErrorCodes.NO_SUBSCRIBERS, 'no group', { retriable: true })),
    ).to.equal(true);
    expect(
      refusesDestination(new OmnibusError(ErrorCodes.PUBLISH_FAILED, 'forbidden', { retriable: false })),
    ).to.equal(true);
    expect(
      refusesDestination(new OmnibusError(ErrorCodes.PUBLISH_FAILED, 'broker down', { retriable: true })),
    ).to.equal(false);
    expect(
      refusesDestination(new OmnibusError(ErrorCodes.CONNECTION_FAILED, 'lost', { retriable: true })),
    ).to.equal(false);
    expect(refusesDestination(new Error('socket hang up'))).to.equal(false);
    expect(refusesDestination('text')).to.equal(false);
  });

  it('a refused destination is left out until its delay passes, the delay grows per refusal in a row, and a success starts it over', () => {
    const backoff = new DestinationBackoff(100, 1000, () => 1); // no jitter: the ceiling each time
    expect(backoff.blocked(0)).to.deep.equal([]);
    expect(backoff.refused('a', 0)).to.deep.equal({ consecutiveFailures: 1, retryInMs: 100 });
    expect(backoff.blocked(0)).to.deep.equal(['a']);
    expect(backoff.blocked(99)).to.deep.equal(['a']);
    expect(backoff.blocked(100)).to.deep.equal([]);
    expect(backoff.refused('a', 100)).to.deep.equal({ consecutiveFailures: 2, retryInMs: 200 });
    expect(backoff.refused('b', 100)).to.deep.equal({ consecutiveFailures: 1, retryInMs: 100 });
    expect(backoff.blocked(250).sort()).to.deep.equal(['a']);
    for (let i = 0; i < 10; i++) backoff.refused('a', 300);
    expect(backoff.refused('a', 300).retryInMs).to.equal(1000); // capped
    backoff.succeeded('a');
    expect(backoff.blocked(300)).to.deep.equal([]);
    expect(backoff.refused('a', 300)).to.deep.equal({ consecutiveFailures: 1, retryInMs: 100 });
  });
});
