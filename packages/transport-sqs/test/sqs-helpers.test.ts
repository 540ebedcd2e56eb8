import { expect } from 'chai';
import { FifoFence } from '../src/fifo-fence.js';
import { RequestBatcher } from '../src/request-batcher.js';
import { chunks } from '../src/sqs-publisher.js';
import {
  isAbort,
  isQueueMissing,
  isReceiptGone,
  isTransientSqsError,
  toOmnibusError,
} from '../src/sqs-error-mapper.js';

describe('FifoFence', () => {
  it('releases later messages of a group received before its retry, not those received after', () => {
    const fence = new FifoFence();
    fence.received('k');
    fence.received('k');
    fence.received('k');
    expect(fence.starting('k', 1)).to.equal(false);
    fence.retried('k', 1, 3);
    expect(fence.starting('k', 2)).to.equal(true);
    expect(fence.starting('k', 3)).to.equal(true);
    fence.received('k');
    expect(fence.starting('k', 4)).to.equal(false);
  });

  it('does nothing for other keys or unkeyed messages', () => {
    const fence = new FifoFence();
    fence.received('a');
    fence.received('b');
    fence.received('a');
    expect(fence.starting('a', 1)).to.equal(false);
    fence.retried('a', 1, 3);
    expect(fence.starting('b', 2)).to.equal(false);
    expect(fence.starting('a', 3)).to.equal(true);
    expect(fence.starting(undefined, 4)).to.equal(false);
  });
});

describe('RequestBatcher', () => {
  it('coalesces entries into batches of at most maxSize and settles each entry on its own', async () => {
    const calls: number[][] = [];
    const batcher = new RequestBatcher<number>(
      async (entries) => {
        calls.push([...entries]);
        return entries.map((n) => (n === 3 ? new Error('three') : undefined));
      },
      2,
      1,
    );
    const results = await Promise.allSettled([1, 2, 3, 4, 5].map((n) => batcher.add(n)));
    expect(calls.flat()).to.deep.equal([1, 2, 3, 4, 5]);
    expect(calls.every((c) => c.length <= 2)).to.equal(true);
    expect(results.map((r) => r.status)).to.deep.equal([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
  });

  it('rejects every entry of a batch whose call failed', async () => {
    const batcher = new RequestBatcher<number>(() => Promise.reject(new Error('down')), 10, 1);
    const results = await Promise.allSettled([batcher.add(1), batcher.add(2)]);
    expect(results.map((r) => r.status)).to.deep.equal(['rejected', 'rejected']);
  });
});

describe('publish chunks', () => {
  it('splits by 10 entries and by total bytes, keeping order', () => {
    const items = Array.from({ length: 23 }, (_, i) => ({ i, bytes: 10 }));
    expect(chunks(items, 1000).map((c) => c.length)).to.deep.equal([10, 10, 3]);
    const big = [{ bytes: 60 }, { bytes: 60 }, { bytes: 30 }, { bytes: 100 }];
    expect(chunks(big, 100).map((c) => c.map((x) => x.bytes))).to.deep.equal([[60], [60, 30], [100]]);
  });
});

describe('sqs error mapper', () => {
  it('classifies SDK errors', () => {
    expect(isQueueMissing({ name: 'QueueDoesNotExist' })).to.equal(true);
    expect(isReceiptGone({ name: 'ReceiptHandleIsInvalid' })).to.equal(true);
    expect(isAbort({ name: 'AbortError' })).to.equal(true);
    expect(isTransientSqsError({ name: 'Error', code: 'ECONNREFUSED' })).to.equal(true);
    expect(isTransientSqsError({ name: 'X', $metadata: { httpStatusCode: 503 } })).to.equal(true);
    expect(
      isTransientSqsError({ name: 'InvalidParameterValue', $metadata: { httpStatusCode: 400 } }),
    ).to.equal(false);
  });

  it('wraps with a code, the context and the cause', () => {
    const cause = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
    const error = toOmnibusError(cause, 'PUBLISH_FAILED', 'Publishing to q');
    expect(error.code).to.equal('PUBLISH_FAILED');
    expect(error.retriable).to.equal(true);
    expect(error.cause).to.equal(cause);
    expect(error.message).to.include('Publishing to q');
  });
});

describe('ReleaseLedger', () => {
  it('subtracts unstarted releases from the receive count, never below 1, and forgets settled messages', async () => {
    const { ReleaseLedger } = await import('../src/release-ledger.js');
    const ledger = new ReleaseLedger(2);
    expect(ledger.attempt('q#a', 1)).to.equal(1);
    ledger.released('q#a');
    ledger.released('q#a');
    expect(ledger.attempt('q#a', 3)).to.equal(1);
    expect(ledger.attempt('q#a', 4)).to.equal(2);
    ledger.forget('q#a');
    expect(ledger.attempt('q#a', 4)).to.equal(4);
    ledger.released('q#b');
    ledger.released('q#c');
    ledger.released('q#d');
    expect(ledger.attempt('q#b', 2), 'oldest entry dropped at capacity').to.equal(2);
    expect(ledger.attempt('q#d', 2)).to.equal(1);
  });
});

describe('withTransientRetry', () => {
  it('retries transient failures until success, and gives up at once on others', async () => {
    const { withTransientRetry } = await import('../src/transient-retry.js');
    let calls = 0;
    const value = await withTransientRetry(async () => {
      calls += 1;
      if (calls < 3) throw Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
      return 'ok';
    }, 5_000);
    expect(value).to.equal('ok');
    expect(calls).to.equal(3);
    let permanent = 0;
    const failure = await withTransientRetry(async () => {
      permanent += 1;
      throw Object.assign(new Error('bad'), {
        name: 'InvalidParameterValue',
        $metadata: { httpStatusCode: 400 },
      });
    }, 5_000).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(permanent).to.equal(1);
    expect((failure as Error).message).to.equal('bad');
  });

  it('stops retrying when the window has passed', async () => {
    const { withTransientRetry } = await import('../src/transient-retry.js');
    let calls = 0;
    const failure = await withTransientRetry(async () => {
      calls += 1;
      throw Object.assign(new Error('down'), { code: 'ECONNRESET' });
    }, 0).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(calls).to.equal(1);
    expect((failure as Error).message).to.equal('down');
  });
});
