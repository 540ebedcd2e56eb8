import { expect } from 'chai';
import { TransportStatusTracker } from '../src/transport/transport-status-tracker.js';
import type { TransportStatus } from '../src/transport/transport.js';

describe('TransportStatusTracker', () => {
  it('notifies listeners of each change, once, and stops after the disposer', () => {
    const tracker = new TransportStatusTracker();
    const seen: TransportStatus[] = [];
    const dispose = tracker.onChange((status) => seen.push(status));
    tracker.set('connecting');
    tracker.set('connecting');
    tracker.set('ready');
    dispose();
    tracker.set('reconnecting');
    expect(seen).to.deep.equal(['connecting', 'ready']);
    expect(tracker.status).to.equal('reconnecting');
  });

  it('repeats a status when an error comes with it', () => {
    const tracker = new TransportStatusTracker();
    const errors: (Error | undefined)[] = [];
    tracker.onChange((_status, error) => errors.push(error));
    tracker.set('reconnecting', new Error('a'));
    tracker.set('reconnecting', new Error('b'));
    expect(errors.map((e) => e?.message)).to.deep.equal(['a', 'b']);
  });

  it('accepts only closed once closing, and ignores throwing listeners', () => {
    const tracker = new TransportStatusTracker();
    tracker.onChange(() => {
      throw new Error('listener bug');
    });
    tracker.set('closing');
    tracker.set('reconnecting');
    expect(tracker.status).to.equal('closing');
    tracker.set('closed');
    expect(tracker.status).to.equal('closed');
    expect(tracker.isClosing).to.equal(true);
  });
});
