import { expect } from 'chai';
import { createEnvelope, isOmnibusError, type DeadLetterReason } from '../../src/index.js';
import { SettleOnceDelivery, type SettlementPort } from '../../src/adapter-kit/index.js';

interface Native {
  readonly id: string;
}

/** A port that records every native call; `fail` makes the next call reject (or throw). */
class RecordingPort implements SettlementPort<Native> {
  readonly transportName = 'test';
  readonly destination = 'orders';
  readonly group = 'billing';
  readonly maxRetryDelayMs = 1_000;
  retryInPlace = false;
  readonly calls: string[] = [];
  fail: 'reject' | 'throw' | undefined;
  problem: Error | undefined;

  ack(native: Native): Promise<void> {
    return this.#record(`ack ${native.id}`);
  }

  retry(native: Native, delayMs: number): Promise<void> {
    return this.#record(`retry ${native.id} ${String(delayMs)}`);
  }

  deadLetter(native: Native, reason: DeadLetterReason): Promise<void> {
    return this.#record(`dead-letter ${native.id} ${reason.code}`);
  }

  retryProblem(): Error | undefined {
    return this.problem;
  }

  #record(call: string): Promise<void> {
    this.calls.push(call);
    if (this.fail === 'throw') throw new Error(`broker said no to ${call}`);
    if (this.fail === 'reject') return Promise.reject(new Error(`broker said no to ${call}`));
    return Promise.resolve();
  }
}

const reason: DeadLetterReason = { code: 'HANDLER_FAILED', message: 'boom', attempts: 3 };

function delivery(port: RecordingPort, id = 'm1', attempt = 1): SettleOnceDelivery<Native> {
  const envelope = createEnvelope({
    id,
    type: 't.v1',
    payload: new Uint8Array(),
    contentType: 'application/json',
  });
  return new SettleOnceDelivery(port, { id }, envelope, attempt);
}

async function rejectionOf(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('adapter kit: SettleOnceDelivery', () => {
  let port: RecordingPort;
  beforeEach(() => {
    port = new RecordingPort();
  });

  it('copies destination, group, envelope and attempt, and exposes the native handle as raw by default', () => {
    const d = delivery(port, 'm7', 3);
    expect([d.destination, d.group, d.envelope.id, d.deliveryAttempt]).to.deep.equal([
      'orders',
      'billing',
      'm7',
      3,
    ]);
    expect(d.raw).to.equal(d.native);
    expect(d.pending).to.equal(true);
    expect(d.settlement).to.equal(undefined);
  });

  it('settles once: the first call reaches the broker, every later call resolves without touching it', async () => {
    const d = delivery(port);
    await d.ack();
    await d.ack();
    await d.retry(10);
    await d.deadLetter(reason);
    expect(port.calls).to.deep.equal(['ack m1']);
    expect(d.settlement).to.equal('acked');
    expect(d.pending).to.equal(false);
  });

  it('passes the retry delay and the dead-letter reason to the port', async () => {
    const a = delivery(port, 'a');
    const b = delivery(port, 'b');
    await a.retry(250);
    await b.deadLetter(reason);
    expect(port.calls).to.deep.equal(['retry a 250', 'dead-letter b HANDLER_FAILED']);
    expect([a.settlement, a.retryDelayMs, b.settlement]).to.deep.equal(['retried', 250, 'dead-lettered']);
  });

  for (const bad of [-1, 1_001, Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`rejects retry(${String(bad)}) with DELAY_OUT_OF_RANGE and stays settleable`, async () => {
      const d = delivery(port);
      const error = await rejectionOf(d.retry(bad));
      expect(isOmnibusError(error) && error.code).to.equal('DELAY_OUT_OF_RANGE');
      expect(d.pending).to.equal(true);
      await d.retry(1_000);
      expect(port.calls).to.deep.equal(['retry m1 1000']);
    });
  }

  it("rejects a retry the port objects to with the port's error and stays settleable", async () => {
    const d = delivery(port);
    port.problem = new Error('visibility limit');
    expect(await rejectionOf(d.retry(5))).to.equal(port.problem);
    expect(d.pending).to.equal(true);
    port.problem = undefined;
    await d.ack();
    expect(port.calls).to.deep.equal(['ack m1']);
  });

  it('records an in-place retry without calling the port', async () => {
    port.retryInPlace = true;
    const d = delivery(port);
    await d.retry(40);
    await d.ack();
    expect(port.calls).to.deep.equal([]);
    expect([d.settlement, d.retryDelayMs]).to.deep.equal(['retry-in-place', 40]);
    expect(await d.settledOk()).to.equal(true);
  });

  it('turns a synchronous throw of the port into a rejection, and the delivery stays claimed', async () => {
    port.fail = 'throw';
    const d = delivery(port);
    let sync: unknown;
    let pending: Promise<void> | undefined;
    try {
      pending = d.ack();
    } catch (error) {
      sync = error;
    }
    expect(sync).to.equal(undefined);
    expect(((await rejectionOf(pending as Promise<void>)) as Error).message).to.contain('broker said no');
    await d.ack();
    expect(port.calls).to.deep.equal(['ack m1']);
    expect(await d.settledOk()).to.equal(false);
  });

  it('settledOk tells a failed native settlement from a successful one', async () => {
    const ok = delivery(port, 'ok');
    await ok.deadLetter(reason);
    expect(await ok.settledOk()).to.equal(true);
    port.fail = 'reject';
    const failed = delivery(port, 'failed');
    await rejectionOf(failed.deadLetter(reason));
    expect(await failed.settledOk()).to.equal(false);
    expect(await delivery(port, 'never').settledOk()).to.equal(false);
  });

  it('release() reports a delivery left unsettled once; later settlements reject SETTLEMENT_FAILED without touching the broker', async () => {
    const d = delivery(port);
    expect(d.release()).to.equal(true);
    expect(d.release()).to.equal(false);
    for (const late of [d.ack(), d.retry(1), d.deadLetter(reason)]) {
      const error = await rejectionOf(late);
      expect(isOmnibusError(error) && error.code).to.equal('SETTLEMENT_FAILED');
    }
    expect(port.calls).to.deep.equal([]);
    expect(d.settlement).to.equal('released');
    const settled = delivery(port, 'm2');
    await settled.ack();
    expect(settled.release()).to.equal(false);
    expect(settled.settlement).to.equal('acked');
    await settled.ack();
  });

  it("uses the port's raw() when it has one", () => {
    const withRaw = Object.assign(new RecordingPort(), { raw: (n: Native) => ({ wrapped: n.id }) });
    expect(delivery(withRaw).raw).to.deep.equal({ wrapped: 'm1' });
  });
});
