import { expect } from 'chai';
import {
  baseRetryDelay,
  computeRetryDelay,
  DEFAULT_RETRY_POLICY,
  retryPolicyProblems,
  type RetryPolicy,
} from '../src/index.js';

const policy: RetryPolicy = {
  maxAttempts: 6,
  initialDelayMs: 100,
  multiplier: 2,
  maxDelayMs: 1000,
  jitter: 0.5,
};

describe('computeRetryDelay', () => {
  it('grows exponentially from initialDelayMs and stops at the cap', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => baseRetryDelay(n, policy))).to.deep.equal([
      100, 200, 400, 800, 1000, 1000,
    ]);
    expect([1, 2, 3, 4, 5].map((n) => computeRetryDelay(n, policy, () => 0))).to.deep.equal([
      100, 200, 400, 800, 1000,
    ]);
  });

  it('adds jitter up to the jitter fraction, never below the un-jittered backoff, never above the cap', () => {
    for (let attempt = 1; attempt <= 8; attempt += 1) {
      for (const r of [0, 0.001, 0.25, 0.5, 0.75, 0.999999]) {
        const base = baseRetryDelay(attempt, policy);
        const delay = computeRetryDelay(attempt, policy, () => r);
        expect(delay, `attempt ${attempt} r ${r}`).to.be.at.least(base);
        expect(delay).to.be.at.most(Math.min(policy.maxDelayMs, Math.ceil(base * (1 + policy.jitter))));
        expect(Number.isInteger(delay)).to.equal(true);
      }
    }
    expect(computeRetryDelay(1, policy, () => 0.999999)).to.equal(150);
  });

  it('is robust to huge attempts and out-of-range random values', () => {
    expect(computeRetryDelay(10_000, policy, () => 0.5)).to.equal(1000);
    expect(computeRetryDelay(1, policy, () => -5)).to.equal(100);
    expect(computeRetryDelay(1, policy, () => 7)).to.equal(150);
    expect(computeRetryDelay(1, { ...policy, jitter: 0 })).to.equal(100);
  });

  it('has sensible defaults', () => {
    expect(retryPolicyProblems(DEFAULT_RETRY_POLICY)).to.deep.equal([]);
  });

  it('reports every invalid field', () => {
    const problems = retryPolicyProblems({
      maxAttempts: 0,
      initialDelayMs: -1,
      multiplier: 0.5,
      maxDelayMs: Number.NaN,
      jitter: 2,
    });
    expect(problems).to.have.length(5);
    expect(problems.join('\n')).to.contain('retry.maxAttempts must be an integer ≥ 1');
    expect(retryPolicyProblems({ initialDelayMs: 500, maxDelayMs: 100 })[0]).to.contain(
      'retry.maxDelayMs (100) must be ≥ retry.initialDelayMs (500)',
    );
  });
});
