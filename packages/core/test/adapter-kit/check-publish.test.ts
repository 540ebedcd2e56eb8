import { expect } from 'chai';
import { createEnvelope, isOmnibusError, type OutgoingMessage } from '../../src/index.js';
import { checkPublish, type PublishLimits } from '../../src/adapter-kit/index.js';

const limits = (delayedDelivery: PublishLimits['capabilities']['delayedDelivery']): PublishLimits => ({
  name: 'test',
  capabilities: { maxPayloadBytes: 8, delayedDelivery },
});

function message(bytes: number, delayMs?: number): OutgoingMessage {
  const envelope = createEnvelope({
    id: 'm1',
    type: 't.v1',
    payload: new Uint8Array(bytes),
    contentType: 'x',
  });
  return delayMs === undefined ? { envelope } : { envelope, delayMs };
}

function codeOf(run: () => unknown): string | false {
  try {
    run();
  } catch (error) {
    return isOmnibusError(error) && error.code;
  }
  return false;
}

describe('adapter kit: checkPublish', () => {
  const withDelay = limits({ maxDelayMs: 1_000, emulated: false });

  it('accepts a payload of exactly maxPayloadBytes and returns the delay (0 when none)', () => {
    expect(checkPublish(withDelay, 'd', message(8))).to.equal(0);
    expect(checkPublish(withDelay, 'd', message(8, 1_000))).to.equal(1_000);
    expect(checkPublish(limits(false), 'd', message(0, 0))).to.equal(0);
  });

  it('rejects one byte over the limit with PAYLOAD_TOO_LARGE, naming message, destination and limit', () => {
    expect(codeOf(() => checkPublish(withDelay, 'd', message(9)))).to.equal('PAYLOAD_TOO_LARGE');
    expect(() => checkPublish(withDelay, 'orders', message(9))).to.throw(
      /message m1 to "orders" is 9 bytes; transport "test" accepts at most 8/,
    );
  });

  for (const delay of [-1, 1_001, Number.NaN, Number.POSITIVE_INFINITY]) {
    it(`rejects delayMs ${String(delay)} with DELAY_OUT_OF_RANGE`, () => {
      expect(codeOf(() => checkPublish(withDelay, 'd', message(1, delay)))).to.equal('DELAY_OUT_OF_RANGE');
    });
  }

  it('rejects any delay on a transport without delayed delivery', () => {
    expect(codeOf(() => checkPublish(limits(false), 'd', message(1, 1)))).to.equal('DELAY_OUT_OF_RANGE');
    expect(() => checkPublish(limits(false), 'd', message(1, 1))).to.throw(
      /does not support delayed delivery/,
    );
  });
});
