import { expect } from 'chai';
import {
  decideOnFailure,
  OmnibusError,
  RetryLaterError,
  UnrecoverableError,
  type FailureFacts,
} from '../src/index.js';

const facts = (attempt: number, overrides: Partial<FailureFacts> = {}): FailureFacts => ({
  attempt,
  retry: { maxAttempts: 3, initialDelayMs: 100, multiplier: 2, maxDelayMs: 1000, jitter: 0 },
  deadLetter: true,
  maxRetryDelayMs: 5000,
  ...overrides,
});

describe('decideOnFailure', () => {
  it('retries plain errors with the policy backoff until the last attempt, then dead-letters', () => {
    expect(decideOnFailure(new Error('boom'), facts(1))).to.deep.equal({
      kind: 'retry',
      delayMs: 100,
      reason: { code: 'HANDLER_FAILED', message: 'boom' },
    });
    expect(decideOnFailure(new Error('boom'), facts(2))).to.include({ kind: 'retry', delayMs: 200 });
    expect(decideOnFailure(new Error('boom'), facts(3))).to.deep.equal({
      kind: 'dead-letter',
      reason: { code: 'HANDLER_FAILED', message: 'boom', attempts: 3 },
    });
    expect(decideOnFailure('a string', facts(4))).to.deep.include({ kind: 'dead-letter' });
  });

  it('keeps the OmnibusError code as the reason', () => {
    const decision = decideOnFailure(new OmnibusError('HANDLER_TIMEOUT', 'slow'), facts(3));
    expect(decision).to.deep.equal({
      kind: 'dead-letter',
      reason: { code: 'HANDLER_TIMEOUT', message: 'slow', attempts: 3 },
    });
  });

  it('dead-letters UnrecoverableError at once with its code', () => {
    expect(decideOnFailure(new UnrecoverableError('poison'), facts(1))).to.deep.equal({
      kind: 'dead-letter',
      reason: { code: 'UNRECOVERABLE', message: 'poison', attempts: 1 },
    });
    expect(
      decideOnFailure(new UnrecoverableError('bad', { code: 'VALIDATION_FAILED' }), facts(1)),
    ).to.deep.include({ kind: 'dead-letter' });
  });

  it('retries RetryLaterError at the requested delay, clamped, bounded by maxAttempts', () => {
    expect(decideOnFailure(new RetryLaterError(1234), facts(1))).to.deep.equal({
      kind: 'retry',
      delayMs: 1234,
      reason: { code: 'RETRY_LATER', message: 'handler asked to retry later' },
    });
    expect(decideOnFailure(new RetryLaterError(99_999), facts(1))).to.include({ delayMs: 5000 });
    expect(decideOnFailure(new RetryLaterError(), facts(2))).to.include({ delayMs: 200 });
    const last = decideOnFailure(new RetryLaterError(10), facts(3));
    expect(last.kind).to.equal('dead-letter');
    expect(last.kind === 'dead-letter' && last.reason.code).to.equal('RETRIES_EXHAUSTED');
  });

  it('discards instead of dead-lettering when dead-lettering is off', () => {
    expect(decideOnFailure(new UnrecoverableError('x'), facts(1, { deadLetter: false })).kind).to.equal(
      'discard',
    );
    expect(decideOnFailure(new Error('x'), facts(3, { deadLetter: false })).kind).to.equal('discard');
    expect(decideOnFailure(new Error('x'), facts(1, { deadLetter: false })).kind).to.equal('retry');
  });

  it('recognises flow-control errors from another copy of the package by brand', () => {
    const foreign = Object.assign(new Error('foreign'), { code: 'UNRECOVERABLE' });
    Object.defineProperty(foreign, Symbol.for('omnibus.unrecoverable'), { value: true });
    expect(decideOnFailure(foreign, facts(1)).kind).to.equal('dead-letter');
    expect(() => new RetryLaterError(-1)).to.throw(RangeError);
  });
});
