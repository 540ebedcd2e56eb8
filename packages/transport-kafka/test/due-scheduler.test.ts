import { expect } from 'chai';
import { DueScheduler } from '../src/due-scheduler.js';

function scheduler(max = 4): { s: DueScheduler<string>; due: string[]; events: string[] } {
  const due: string[] = [];
  const events: string[] = [];
  const s = new DueScheduler<string>({
    maxHeldPerPartition: max,
    onDue: (item) => due.push(item),
    pause: (key) => events.push(`pause ${key}`),
    resume: (key) => events.push(`resume ${key}`),
  });
  return { s, due, events };
}

const until = async (condition: () => boolean): Promise<void> => {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 1));
};

describe('DueScheduler', () => {
  it('releases each item at its own due time, not behind earlier ones', async () => {
    const { s, due } = scheduler();
    const now = Date.now();
    s.hold('t:0', 'later', now + 40);
    s.hold('t:0', 'sooner', now + 1);
    await until(() => due.length === 2);
    expect(due).to.deep.equal(['sooner', 'later']);
    expect(s.size).to.equal(0);
  });

  it('pauses a partition holding too many items and resumes it once half drained', async () => {
    const { s, due, events } = scheduler(2);
    s.hold('t:1', 'a', Date.now());
    s.hold('t:1', 'b', Date.now());
    expect(events).to.deep.equal(['pause t:1']);
    expect(s.isPaused('t:1')).to.equal(true);
    await until(() => due.length === 2);
    expect(events).to.deep.equal(['pause t:1', 'resume t:1']);
  });

  it('drops a revoked partition without delivering its items', async () => {
    const { s, due } = scheduler();
    s.hold('t:0', 'gone', Date.now() + 5);
    s.hold('t:1', 'kept', Date.now() + 5);
    s.dropPartition('t:0');
    await until(() => due.length === 1);
    expect(due).to.deep.equal(['kept']);
    s.hold('t:2', 'cleared', Date.now() + 5);
    s.clear();
    expect(s.size).to.equal(0);
  });
});
