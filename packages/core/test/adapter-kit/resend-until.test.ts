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

describe('resendUntil: one shared deadline timer', () => {
  it('gives every attempt of the same deadline one abort signal, and aborts it at the deadline', async () => {
    const shared = deadline(150);
    const signals: AbortSignal[] = [];
    const results = await Promise.all(
      [1, 2, 3].map(() =>
        settle(
          resendUntil(shared, options, (signal) => {
            signals.push(signal);
            return new Promise(() => undefined);
          }),
        ),
      ),
    );
    expect(new Set(signals).size).to.equal(1);
    expect(signals[0]?.aborted).to.equal(true);
    for (const result of results) {
      const error = result.ok ? undefined : result.error;
      expect(isOmnibusError(error) && error.code).to.equal('PUBLISH_FAILED');
    }
  });

  it('never aborts the signal of an attempt that settled before its deadline, and a later call gets a live one', async () => {
    const shared = deadline(100);
    let first: AbortSignal | undefined;
    await resendUntil(shared, options, (signal) => {
      first = signal;
      return Promise.resolve('sent');
    });
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(first?.aborted).to.equal(false);
    let second: AbortSignal | undefined;
    await resendUntil(deadline(100), options, (signal) => {
      second = signal;
      return Promise.resolve('sent');
    });
    expect(second?.aborted).to.equal(false);
  });

  it('gives up no earlier than the deadline', async () => {
    const started = Date.now();
    const result = await settle(resendUntil(deadline(120), options, () => new Promise(() => undefined)));
    expect(result.ok).to.equal(false);
    expect(Date.now() - started).to.be.at.least(119);
  });
});

describe('resendUntil with attemptsEndByDeadline (attempts bounded by their own request timeout)', () => {
  it('watches no deadline (the signal never aborts) but still re-sends transient failures and then gives up', async () => {
    const signals: AbortSignal[] = [];
    const result = await settle(
      resendUntil(deadline(300), { ...options, attemptsEndByDeadline: true }, (signal) => {
        signals.push(signal);
        return Promise.reject(refused());
      }),
    );
    const error = result.ok ? undefined : result.error;
    expect(isOmnibusError(error) && error.code).to.equal('PUBLISH_FAILED');
    expect(signals.length).to.be.greaterThan(1);
    expect(signals.every((signal) => !signal.aborted)).to.equal(true);
  });

  it('resolves with the first answer', async () => {
    const value = await resendUntil(deadline(1_000), { ...options, attemptsEndByDeadline: true }, () =>
      Promise.resolve('sent'),
    );
    expect(value).to.equal('sent');
  });
});
