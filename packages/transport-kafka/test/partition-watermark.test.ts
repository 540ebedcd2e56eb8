import { expect } from 'chai';
import { PartitionWatermark } from '../src/partition-watermark.js';

describe('PartitionWatermark', () => {
  it('commits only the contiguous settled prefix', () => {
    const w = new PartitionWatermark('t', 0);
    for (const o of ['10', '11', '12', '13']) expect(w.track(o)).to.equal(true);
    expect(w.settle('12')).to.equal(false);
    expect(w.position).to.equal(undefined);
    expect(w.pendingCommit()).to.equal(undefined);
    expect(w.settle('10')).to.equal(true);
    expect(w.position).to.equal('11');
    expect(w.covers('10')).to.equal(true);
    expect(w.covers('12')).to.equal(false);
    expect(w.settle('11')).to.equal(true);
    expect(w.position).to.equal('13');
    expect(w.pendingCommit()).to.deep.equal({ offset: '13', metadata: '' });
  });

  it('skips gaps in offsets (compaction, transaction markers)', () => {
    const w = new PartitionWatermark('t', 0);
    w.track('5');
    w.track('9');
    w.settle('9');
    expect(w.position).to.equal(undefined);
    w.settle('5');
    expect(w.position).to.equal('10');
  });

  it('recognises re-fetched offsets', () => {
    const w = new PartitionWatermark('t', 1);
    w.track('0');
    w.track('1');
    expect(w.seen('0')).to.equal(true);
    expect(w.seen('1')).to.equal(true);
    expect(w.seen('2')).to.equal(false);
    expect(w.track('1')).to.equal(false);
  });

  it('settling twice is harmless', () => {
    const w = new PartitionWatermark('t', 0);
    w.track('0');
    expect(w.settle('0')).to.equal(true);
    expect(w.settle('0')).to.equal(false);
    expect(w.position).to.equal('1');
  });

  it('reports a commit once, until forgotten after a re-join', () => {
    const w = new PartitionWatermark('t', 0);
    w.track('0');
    w.settle('0');
    w.markCommitted('1', '');
    expect(w.pendingCommit()).to.equal(undefined);
    w.forgetCommitted();
    expect(w.pendingCommit()).to.deep.equal({ offset: '1', metadata: '' });
  });

  it('never moves the committed position backwards', () => {
    const w = new PartitionWatermark('t', 0);
    w.track('0');
    w.track('1');
    w.settle('0');
    w.settle('1');
    w.markCommitted('2', '');
    w.markCommitted('1', '');
    expect(w.pendingCommit()).to.equal(undefined);
  });

  it('carries started attempts as commit metadata; the next owner continues the count', () => {
    const w = new PartitionWatermark('t', 0);
    w.track('7');
    w.track('8');
    w.noteStarted('7', 3);
    const pending = w.pendingCommit();
    expect(pending?.offset).to.equal('7');
    const next = new PartitionWatermark('t', 0);
    next.seed(pending?.metadata);
    expect(next.seededNextAttempt('7')).to.equal(4);
    expect(next.seededNextAttempt('8')).to.equal(1);
    w.settle('7');
    expect(w.pendingCommit()).to.deep.equal({ offset: '8', metadata: '' });
  });

  it('commits a start bound once per planned batch; the next owner counts records up to it as started', () => {
    const w = new PartitionWatermark('t', 0);
    expect(w.planStarts('20', '29'), 'a new bound needs a commit').to.equal(true);
    const pending = w.pendingCommit();
    expect(pending, 'committed at the first planned offset while nothing is in custody').to.deep.equal({
      offset: '20',
      metadata: '{"s":"29"}',
      startBound: '29',
    });
    w.markCommitted(pending?.offset ?? '', pending?.metadata ?? '', pending?.startBound);
    expect(w.startCommitted('29')).to.equal(true);
    expect(w.startCommitted('30')).to.equal(false);
    expect(w.planStarts('25', '29'), 'a covered batch needs no commit').to.equal(false);
    const next = new PartitionWatermark('t', 0);
    next.seed(pending?.metadata);
    expect(next.seededNextAttempt('29')).to.equal(2);
    expect(next.seededNextAttempt('29', 3), 'one more than the header attempt').to.equal(4);
    expect(next.seededNextAttempt('30')).to.equal(1);
  });

  it('drops the start bound once everything up to it settled, and when made precise', () => {
    const w = new PartitionWatermark('t', 0);
    w.planStarts('0', '1');
    w.track('0');
    w.track('1');
    w.noteStarted('0', 1);
    w.noteStarted('1', 1);
    expect(w.metadata()).to.equal('{"s":"1","a":{"0":1,"1":1}}');
    w.precise();
    expect(w.metadata(), 'a clean close commits exact attempts only').to.equal('{"a":{"0":1,"1":1}}');
    const other = new PartitionWatermark('t', 1);
    other.planStarts('0', '1');
    other.track('0');
    other.track('1');
    other.settle('0');
    other.settle('1');
    expect(other.pendingCommit()).to.deep.equal({ offset: '2', metadata: '' });
  });

  it('a clean close overwrites a committed start bound over records that never started (they keep their attempt)', () => {
    const w = new PartitionWatermark('t', 0);
    w.planStarts('4', '4');
    w.track('4');
    const bound = w.pendingCommit();
    w.markCommitted(bound?.offset ?? '', bound?.metadata ?? '', bound?.startBound);
    w.precise();
    const final = w.pendingCommit();
    expect(final, 'the bound is replaced at the same position').to.deep.equal({ offset: '4', metadata: '' });
    const next = new PartitionWatermark('t', 0);
    next.seed(final?.metadata);
    expect(next.seededNextAttempt('4', 2), 'a retry copy that never started keeps its attempt').to.equal(2);
  });

  it('exact attempts win over the start bound for the next owner', () => {
    const next = new PartitionWatermark('t', 0);
    next.seed('{"s":"9","a":{"5":3}}');
    expect(next.seededNextAttempt('5')).to.equal(4);
    expect(next.seededNextAttempt('6')).to.equal(2);
  });

  it('bounds the metadata size, keeping the lowest offsets', () => {
    const w = new PartitionWatermark('t', 0);
    for (let i = 0; i < 1000; i += 1) {
      w.track(String(1_000_000_000 + i));
      w.noteStarted(String(1_000_000_000 + i), 1);
    }
    const metadata = w.metadata();
    expect(metadata.length).to.be.at.most(3500);
    const next = new PartitionWatermark('t', 0);
    next.seed(metadata);
    expect(next.seededNextAttempt('1000000000')).to.equal(2);
  });

  it('ignores foreign commit metadata', () => {
    const w = new PartitionWatermark('t', 0);
    w.seed('not json');
    expect(w.seededNextAttempt('1')).to.equal(1);
    w.seed('{"a":{"x":2,"3":"y","4":0}}');
    expect(w.seededNextAttempt('3')).to.equal(1);
    expect(w.seededNextAttempt('4')).to.equal(1);
  });

  it('commits nothing once revoked', () => {
    const w = new PartitionWatermark('t', 0);
    w.track('0');
    w.settle('0');
    w.revoke();
    expect(w.pendingCommit()).to.equal(undefined);
  });

  it('handles offsets beyond 2^53', () => {
    const w = new PartitionWatermark('t', 0);
    w.track('9007199254740993');
    w.settle('9007199254740993');
    expect(w.position).to.equal('9007199254740994');
  });
});
