import { expect } from 'chai';
import {
  ErrorCodes,
  REPLAY_COUNT_HEADER,
  REPLAYED_AT_HEADER,
  WireHeaders,
  checkDeadLetterQuery,
  deadLetterWireHeaders,
  isOmnibusError,
  replayCountOf,
  replayWireHeaders,
} from '../src/index.js';

describe('dead-letter queries and replay headers', function () {
  it('rejects a bad query naming every problem in one DEAD_LETTER_QUERY_INVALID error', function () {
    let caught: unknown;
    try {
      checkDeadLetterQuery({
        destination: '',
        group: 'g',
        limit: 0,
        since: new Date('nope'),
        codes: 'X' as unknown as string[],
      });
    } catch (error) {
      caught = error;
    }
    expect(isOmnibusError(caught)).to.equal(true);
    const error = caught as { code: string; message: string };
    expect(error.code).to.equal(ErrorCodes.DEAD_LETTER_QUERY_INVALID);
    for (const part of ['destination', 'limit', 'since', 'codes']) expect(error.message).to.contain(part);
  });

  it('accepts a well-formed query', function () {
    expect(() =>
      checkDeadLetterQuery({ destination: 'd', group: 'g', limit: 5, codes: ['A'], since: new Date() }),
    ).to.not.throw();
  });

  it('builds replay headers: dead-letter details and attempt dropped, replay count incremented', function () {
    const original = { [WireHeaders.id]: 'm-1', [WireHeaders.deliveryAttempt]: '3', 'x-user': 'kept' };
    const dead = deadLetterWireHeaders(
      original,
      { code: 'C', message: 'm', attempts: 3 },
      { destination: 'd', group: 'g' },
    );
    const now = new Date('2026-01-02T03:04:05.000Z');
    const first = replayWireHeaders(dead, now);
    expect(first).to.deep.equal({
      [WireHeaders.id]: 'm-1',
      'x-user': 'kept',
      [REPLAY_COUNT_HEADER]: '1',
      [REPLAYED_AT_HEADER]: now.toISOString(),
    });
    expect(replayCountOf(replayWireHeaders(first, now))).to.equal(2);
    expect(replayCountOf({ [REPLAY_COUNT_HEADER]: 'junk' })).to.equal(0);
  });
});
