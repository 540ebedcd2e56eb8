import { expect } from 'chai';
import { sleep, waitFor, WaitTimeoutError, withTimeout } from '../../src/adapter-kit/index.js';

describe('adapter kit: timing', () => {
  it('sleep resolves true when the time passed', async () => {
    expect(await sleep(1)).to.equal(true);
  });

  it('sleep resolves false as soon as its signal aborts, and at once when already aborted', async () => {
    const controller = new AbortController();
    const waiting = sleep(3_600_000, controller.signal);
    controller.abort();
    expect(await waiting).to.equal(false);
    expect(await sleep(3_600_000, controller.signal)).to.equal(false);
  });

  it('withTimeout reports a result in time, a timeout, and passes a rejection through', async () => {
    expect(await withTimeout(Promise.resolve(42), 1_000)).to.deep.equal({ settled: true, value: 42 });
    expect(await withTimeout(new Promise<never>(() => undefined), 1)).to.deep.equal({ settled: false });
    let error: unknown;
    await withTimeout(Promise.reject(new Error('no')), 1_000).catch((e: unknown) => (error = e));
    expect((error as Error).message).to.equal('no');
  });

  it('waitFor rejects with a WaitTimeoutError that carries the detail', async () => {
    let error: unknown;
    await waitFor(() => false, {
      timeoutMs: 5,
      intervalMs: 1,
      message: 'ids arrived',
      detail: () => 'missing: a, b',
    }).catch((e: unknown) => (error = e));
    expect(error).to.be.instanceOf(WaitTimeoutError);
    expect((error as Error).message).to.equal('ids arrived within 5 ms: missing: a, b');
  });

  it('waitFor stops when its signal aborts', async () => {
    const controller = new AbortController();
    controller.abort(new Error('closing'));
    let error: unknown;
    await waitFor(() => false, { signal: controller.signal }).catch((e: unknown) => (error = e));
    expect((error as Error).message).to.equal('closing');
  });
});
