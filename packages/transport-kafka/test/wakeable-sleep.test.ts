import { expect } from 'chai';
import { WakeableSleep } from '../src/wakeable-sleep.js';

describe('WakeableSleep', () => {
  it('resolves true when the time elapsed', async () => {
    expect(await new WakeableSleep().sleep(1)).to.equal(true);
  });

  it('wakeAll resolves every pending sleep with false', async () => {
    const sleeper = new WakeableSleep();
    const pending = [sleeper.sleep(60_000), sleeper.sleep(60_000)];
    sleeper.wakeAll();
    expect(await Promise.all(pending)).to.deep.equal([false, false]);
  });
});
