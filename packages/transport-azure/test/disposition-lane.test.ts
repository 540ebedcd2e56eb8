// The disposition lane keeps rhea from merging a dead-letter or abandon into a complete's range.
import { expect } from 'chai';
import { DispositionLane } from '../src/consumers/disposition-lane.js';

describe('DispositionLane', () => {
  /** Runs the settlements queued by `queue` in one tick; returns the macrotask turn each ran in. */
  async function turnsOf(
    queue: (settle: (kind: 'complete' | 'other', name: string) => Promise<void>) => void,
  ) {
    const lane = new DispositionLane();
    let turn = 0;
    let done = false;
    // Registered before anything is queued, so each check phase counts its turn first.
    const tick = (): void => {
      setImmediate(() => {
        turn += 1;
        if (!done) tick();
      });
    };
    tick();
    const ran: string[] = [];
    const pending: Promise<void>[] = [];
    queue((kind, name) => {
      const settled = lane.run(kind, () => {
        ran.push(`${name}@${String(turn)}`);
        return Promise.resolve();
      });
      pending.push(settled);
      return settled;
    });
    await Promise.all(pending);
    done = true;
    return ran;
  }

  it('lets completes queued in one tick share it and moves a dead-letter or abandon to a macrotask of its own', async () => {
    const ran = await turnsOf((settle) => {
      void settle('complete', 'a');
      void settle('other', 'dead-letter b');
      void settle('complete', 'c');
      void settle('other', 'abandon d');
    });
    const turn = (name: string): number => Number(ran.find((r) => r.startsWith(name))?.split('@')[1]);
    expect(turn('a'), 'completes share the first window').to.equal(turn('c'));
    expect(turn('dead-letter b')).to.be.above(turn('a'));
    expect(turn('abandon d')).to.be.above(turn('a'));
    expect(turn('abandon d'), 'two non-completes never share a window').to.not.equal(turn('dead-letter b'));
    expect(ran).to.have.length(4);
  });

  it('runs a settlement at once when no window is open, and a complete behind a dead-letter waits', async () => {
    const ran = await turnsOf((settle) => {
      void settle('other', 'dead-letter a');
      void settle('complete', 'b');
    });
    expect(ran[0]).to.equal('dead-letter a@0');
    expect(Number(ran[1]?.split('@')[1])).to.be.above(0);
  });
});
