import { expect } from 'chai';
import type { CommitOffset } from '../src/kafka-client-port.js';
import { OffsetCommitter } from '../src/offset-committer.js';
import { PartitionWatermark } from '../src/partition-watermark.js';

function deferred(): { promise: Promise<void>; resolve: () => void; reject: (e: Error) => void } {
  let resolve!: () => void;
  let reject!: (e: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

describe('OffsetCommitter', () => {
  it('commits pending positions of every watermark in one request', async () => {
    const a = new PartitionWatermark('t', 0);
    const b = new PartitionWatermark('t', 1);
    a.track('0');
    a.settle('0');
    b.track('4');
    b.settle('4');
    const calls: CommitOffset[][] = [];
    const committer = new OffsetCommitter({
      watermarks: () => [a, b],
      commit: async (o) => void calls.push([...o]),
    });
    await committer.flush();
    expect(calls).to.have.length(1);
    expect(calls[0]?.map((c) => [c.partition, c.offset])).to.deep.equal([
      [0, '1'],
      [1, '5'],
    ]);
    await committer.flush();
    expect(calls).to.have.length(1);
  });

  it('serialises commits and coalesces flushes requested meanwhile', async () => {
    const w = new PartitionWatermark('t', 0);
    for (const o of ['0', '1', '2']) w.track(o);
    const gates: ReturnType<typeof deferred>[] = [];
    const calls: string[] = [];
    const committer = new OffsetCommitter({
      watermarks: () => [w],
      commit: (o) => {
        calls.push(o[0]?.offset ?? '');
        const gate = deferred();
        gates.push(gate);
        return gate.promise;
      },
    });
    w.settle('0');
    const first = committer.flush();
    w.settle('1');
    const second = committer.flush();
    w.settle('2');
    const third = committer.flush();
    expect(second).to.equal(third);
    expect(calls).to.deep.equal(['1']);
    gates[0]?.resolve();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(calls).to.deep.equal(['1', '3']);
    gates[1]?.resolve();
    await third;
  });

  it('keeps positions pending after a failed commit', async () => {
    const w = new PartitionWatermark('t', 0);
    w.track('0');
    w.settle('0');
    let fail = true;
    const calls: string[] = [];
    const committer = new OffsetCommitter({
      watermarks: () => [w],
      commit: async (o) => {
        calls.push(o[0]?.offset ?? '');
        if (fail) throw new Error('rebalancing');
      },
    });
    let failed = false;
    await committer.flush().catch(() => {
      failed = true;
    });
    expect(failed).to.equal(true);
    fail = false;
    await committer.flush();
    expect(calls).to.deep.equal(['1', '1']);
  });
});
