import { expect } from 'chai';
import type { Msg } from '@nats-io/transport-node';
import { isOmnibusError } from '@omnibus/core';
import type { MessageEnvelope } from '@omnibus/core';
import { NatsSettlement, lateNotLost } from '../src/nats-settlement.js';
import type { HeldMessage, NatsConnectionMark } from '../src/nats-settlement.js';
import { PulledMessage, parseAckSubject } from '../src/nats-pulled-message.js';
import { resolveNatsOptions } from '../src/nats-options.js';

const ACK_SUBJECT = '$JS.ACK.ot_orders.billing.1.17.40.1764650000123456789.5';

function held(): HeldMessage {
  const msg = { reply: ACK_SUBJECT, data: new Uint8Array(), respond: () => true } as unknown as Msg;
  const info = parseAckSubject(ACK_SUBJECT);
  if (info === undefined) throw new Error('bad ack subject');
  return {
    msg: new PulledMessage(msg, info),
    envelope: { id: 'm1' } as MessageEnvelope,
    partition: -1,
    held: true,
  };
}

/** A settlement whose ack confirmations never come; `marks` is what the connection looks like at each look. */
function settlement(marks: NatsConnectionMark[]): NatsSettlement {
  let look = 0;
  return new NatsSettlement({
    spec: {
      destination: 'orders',
      group: 'billing',
      concurrency: 1,
      ordered: false,
      handlerTimeoutMs: 1_000,
    },
    options: resolveNatsOptions({ servers: ['nats://127.0.0.1:4222'], settleTimeoutMs: 150 }),
    publishDeadLetter: () => Promise.resolve(),
    flush: () => Promise.resolve(),
    request: (_subject, _body, timeoutMs) =>
      new Promise((_resolve, reject) =>
        setTimeout(() => reject(Object.assign(new Error('timeout'), { name: 'TimeoutError' })), timeoutMs),
      ),
    connection: () => marks[Math.min(look++, marks.length - 1)] as NatsConnectionMark,
  });
}

describe('NATS settlement: an ack whose confirmation is late', () => {
  it('resolves when the connection stayed up and kept receiving (the answer is queued behind deliveries)', async () => {
    await settlement([
      { losses: 0, inBytes: 1_000 },
      { losses: 0, inBytes: 9_000 },
    ]).ack(held());
  });

  it('rejects with SETTLEMENT_FAILED when the connection was lost meanwhile', async () => {
    const error = await settlement([
      { losses: 0, inBytes: 1_000 },
      { losses: 1, inBytes: 9_000 },
    ])
      .ack(held())
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isOmnibusError(error) && error.code).to.equal('SETTLEMENT_FAILED');
  });

  it('rejects with SETTLEMENT_FAILED when nothing arrived on the connection (the server gone or hung)', async () => {
    const error = await settlement([{ losses: 0, inBytes: 1_000 }])
      .ack(held())
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(isOmnibusError(error) && error.code).to.equal('SETTLEMENT_FAILED');
  });

  it('lateNotLost needs both: no loss and bytes received', () => {
    expect(lateNotLost({ losses: 2, inBytes: 5 }, { losses: 2, inBytes: 6 })).to.equal(true);
    expect(lateNotLost({ losses: 2, inBytes: 5 }, { losses: 2, inBytes: 5 })).to.equal(false);
    expect(lateNotLost({ losses: 2, inBytes: 5 }, { losses: 3, inBytes: 6 })).to.equal(false);
  });
});
