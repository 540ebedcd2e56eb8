import { expect } from 'chai';
import { createEnvelope, type DeadLetterReason } from '../../src/index.js';
import {
  retryInPlace,
  SettleOnceDelivery,
  type InPlaceSteps,
  type SettlementPort,
} from '../../src/adapter-kit/index.js';

type Settle = (d: SettleOnceDelivery<string>) => Promise<void> | undefined;

/** An ordered subscription's steps, scripted per attempt. */
function steps(script: readonly Settle[], overrides: Partial<InPlaceSteps<string>> = {}) {
  const log: string[] = [];
  const port: SettlementPort<string> = {
    transportName: 'test',
    destination: 'd',
    group: 'g',
    maxRetryDelayMs: 1_000,
    retryInPlace: true,
    ack: () => Promise.resolve(),
    retry: () => Promise.reject(new Error('never called for in-place retries')),
    deadLetter: (_n: string, reason: DeadLetterReason) => {
      log.push(`dead-letter ${reason.code}`);
      return Promise.resolve();
    },
  };
  const envelope = createEnvelope({ id: 'm', type: 't.v1', payload: new Uint8Array(), contentType: 'x' });
  const run: InPlaceSteps<string> = {
    begin: (_item, attempt) => {
      log.push(`begin ${String(attempt)}`);
      return true;
    },
    deliver: async (item, attempt) => {
      const d = new SettleOnceDelivery(port, item, envelope, attempt);
      await script[attempt - 1]?.(d);
      return d;
    },
    sleep: (ms) => {
      log.push(`sleep ${String(ms)}`);
      return Promise.resolve(true);
    },
    ...overrides,
  };
  return { log, run };
}

describe('adapter kit: retryInPlace', () => {
  it('re-runs the message with attempt + 1 after each in-place retry, then ends settled', async () => {
    const { log, run } = steps([(d) => d.retry(10), (d) => d.retry(20), (d) => d.ack()]);
    expect(await retryInPlace('m', 1, run)).to.equal('settled');
    expect(log).to.deep.equal(['begin 1', 'sleep 10', 'begin 2', 'sleep 20', 'begin 3']);
  });

  it('starts from the given attempt (a redelivered message keeps its count)', async () => {
    const seen: number[] = [];
    const { run } = steps([], {
      deliver: async (item, attempt) => {
        seen.push(attempt);
        const d = await steps([
          (x) => (attempt < 6 ? x.retry(0) : x.deadLetter({ code: 'X', message: '', attempts: attempt })),
        ]).run.deliver(item, 1);
        return d;
      },
    });
    expect(await retryInPlace('m', 4, run)).to.equal('settled');
    expect(seen).to.deep.equal([4, 5, 6]);
  });

  it('releases a delivery the handler left unsettled and reports it', async () => {
    let delivered: SettleOnceDelivery<unknown> | undefined;
    const { run } = steps([() => undefined]);
    const end = await retryInPlace('m', 1, {
      ...run,
      deliver: async (item, attempt) => (delivered = await run.deliver(item, attempt)),
    });
    expect(end).to.equal('unsettled');
    expect(delivered?.settlement).to.equal('released');
  });

  it('stops when begin refuses the next attempt (sync or async)', async () => {
    const sync = steps([(d) => d.retry(5)], { begin: (_i, attempt) => attempt === 1 });
    expect(await retryInPlace('m', 1, sync.run)).to.equal('stopped');
    const async = steps([(d) => d.retry(5)], { begin: (_i, attempt) => Promise.resolve(attempt === 1) });
    expect(await retryInPlace('m', 1, async.run)).to.equal('stopped');
  });

  it('ends interrupted when the wait before the next attempt is cut short', async () => {
    const { run } = steps([(d) => d.retry(5)], { sleep: () => Promise.resolve(false) });
    expect(await retryInPlace('m', 1, run)).to.equal('interrupted');
  });

  it('re-runs the same attempt when rerunDelayMs asks for it', async () => {
    const attempts: number[] = [];
    let reruns = 0;
    const { run } = steps([]);
    const end = await retryInPlace('m', 2, {
      ...run,
      deliver: async (item, attempt) => {
        attempts.push(attempt);
        return steps([(d) => d.ack()]).run.deliver(item, 1);
      },
      rerunDelayMs: () => (reruns++ < 2 ? Promise.resolve(7) : undefined),
    });
    expect(end).to.equal('settled');
    expect(attempts).to.deep.equal([2, 2, 2]);
  });
});
