import { expect } from 'chai';
import { isOmnibusError } from '@omnibus/core';
import { publishWithinDeadline } from '../src/publish-deadline.js';

const deadline = (timeoutMs: number) => ({ at: Date.now() + timeoutMs, timeoutMs });
const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9324'), { code: 'ECONNREFUSED' });
const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe('publishWithinDeadline (SQS publish during an outage)', () => {
  it('re-sends while the endpoint is unreachable and resolves once it answers', async () => {
    let calls = 0;
    const result = await publishWithinDeadline(deadline(5_000), 'orders', () => {
      calls += 1;
      return calls < 3 ? Promise.reject(refused()) : Promise.resolve('sent');
    });
    expect(result).to.equal('sent');
    expect(calls).to.equal(3);
  });

  it('gives up at the deadline with a retriable PUBLISH_FAILED naming the timeout and the cause', async () => {
    let calls = 0;
    const result = await settle(
      publishWithinDeadline(deadline(400), 'orders', () => {
        calls += 1;
        return Promise.reject(refused());
      }),
    );
    expect(result.ok).to.equal(false);
    const error = result.ok ? undefined : result.error;
    expect(isOmnibusError(error) && error.code).to.equal('PUBLISH_FAILED');
    expect(isOmnibusError(error) && error.retriable).to.equal(true);
    expect(String((error as Error).message)).to.match(
      /not accepted within publishTimeoutMs 400 ms.*ECONNREFUSED/,
    );
    expect(calls).to.be.greaterThan(1);
  });

  it('rejects a permanent error at once, without re-sending', async () => {
    let calls = 0;
    const permanent = Object.assign(new Error('no such queue'), { name: 'QueueDoesNotExist' });
    const result = await settle(
      publishWithinDeadline(deadline(5_000), 'orders', () => {
        calls += 1;
        return Promise.reject(permanent);
      }),
    );
    expect(result.ok ? undefined : result.error).to.equal(permanent);
    expect(calls).to.equal(1);
  });

  it('aborts a request still running at the deadline (a silent endpoint) and rejects retriably', async () => {
    const result = await settle(
      publishWithinDeadline(
        deadline(200),
        'orders',
        (signal) =>
          new Promise((_, reject) =>
            signal.addEventListener('abort', () =>
              reject(Object.assign(new Error('aborted'), { name: 'AbortError' })),
            ),
          ),
      ),
    );
    const error = result.ok ? undefined : result.error;
    expect(isOmnibusError(error) && error.retriable).to.equal(true);
    expect(String((error as Error).message)).to.match(/not accepted within publishTimeoutMs 200 ms/);
  });
});
