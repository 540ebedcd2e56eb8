import { expect } from 'chai';
import { isOmnibusError, noSubscribersError } from '../../src/index.js';
import { resendUntil } from '../../src/adapter-kit/index.js';

const deadline = (timeoutMs: number) => ({ at: Date.now() + timeoutMs, timeoutMs });
const isTransient = (error: unknown): boolean => (error as { code?: string }).code === 'ECONNREFUSED';
const options = { transport: 'SQS', destination: 'orders', isTransient };
const refused = () =>
  Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9324'), { code: 'ECONNREFUSED' });
const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ ok: true as const, value }),
    (error: unknown) => ({ ok: false as const, error }),
  );

describe('resendUntil (a publish during an outage)', () => {
  it('re-sends while the endpoint is unreachable and resolves once it answers', async () => {
    let calls = 0;
    const result = await resendUntil(deadline(5_000), options, () => {
      calls += 1;
      return calls < 3 ? Promise.reject(refused()) : Promise.resolve('sent');
    });
    expect(result).to.equal('sent');
    expect(calls).to.equal(3);
  });

  it('rejects NO_SUBSCRIBERS at once and unchanged, even when the transport calls retriable errors transient', async () => {
    let calls = 0;
    const result = await settle(
      resendUntil(deadline(5_000), { ...options, isTransient: () => true }, () => {
        calls += 1;
        return Promise.reject(noSubscribersError('SNS', 'orders'));
      }),
    );
    expect(calls).to.equal(1);
    const error = result.ok ? undefined : result.error;
    expect(isOmnibusError(error) && error.code).to.equal('NO_SUBSCRIBERS');
  });

  it('gives up at the deadline with a retriable PUBLISH_FAILED naming the timeout and the cause', async () => {
    let calls = 0;
    const result = await settle(
      resendUntil(deadline(400), options, () => {
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
      resendUntil(deadline(5_000), options, () => {
        calls += 1;
        return Promise.reject(permanent);
      }),
    );
    expect(result.ok ? undefined : result.error).to.equal(permanent);
    expect(calls).to.equal(1);
  });

  it('gives up a request still running at the deadline (a silent endpoint, a client that cannot abort) and rejects retriably', async () => {
    let seen: AbortSignal | undefined;
    const result = await settle(
      resendUntil(deadline(200), options, (signal) => {
        seen = signal;
        return new Promise(() => undefined);
      }),
    );
    const error = result.ok ? undefined : result.error;
    expect(isOmnibusError(error) && error.retriable).to.equal(true);
    expect(String((error as Error).message)).to.match(/not accepted within publishTimeoutMs 200 ms/);
    expect(seen?.aborted).to.equal(true);
  });
});
