import { expect } from 'chai';
import { ServiceBusClient } from '@azure/service-bus';
import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { testDelivery } from './support/delivery-fixture.js';
import type { TestSettlementContext } from './support/delivery-fixture.js';
import {
  allowSlowDrain,
  confirmRemovedByPeek,
  receivedOnClosedLink,
  settleWhileLinkOpen,
} from '../src/consumers/receive-link-state.js';
import { keepMessageLocked } from '../src/consumers/message-lock-keeper.js';

/** Stand-in for the SDK's `Long` sequence numbers (only `equals` is used). */
function seq(n: number): { n: number; equals(other: { n: number }): boolean } {
  return { n, equals: (other) => other.n === n };
}

/** A received message whose (SDK-internal) rhea link reports `open` until `closeLink()`. */
function messageOnLink(extra: Record<string, unknown> = {}): {
  message: ServiceBusReceivedMessage;
  closeLink: () => void;
} {
  let open = true;
  const message = {
    body: Buffer.from('x'),
    messageId: 'm1',
    sessionId: 'm1',
    deliveryCount: 0,
    sequenceNumber: seq(7),
    lockedUntilUtc: new Date(Date.now() + 60_000),
    applicationProperties: { 'ce-id': 'm1', 'ce-type': 't' },
    delivery: { link: { is_open: () => open } },
    ...extra,
  } as unknown as ServiceBusReceivedMessage;
  return { message, closeLink: () => (open = false) };
}

function context(receiver: Partial<ServiceBusReceiver>, extra: Partial<TestSettlementContext> = {}) {
  return {
    receiver: receiver as ServiceBusReceiver,
    destination: 'orders',
    group: 'billing',
    subscription: 'billing',
    retryMode: 'scheduled-copy' as const,
    sendCopy: () => Promise.resolve(),
    wait: () => Promise.resolve(),
    maxRetryDelayMs: 10_000,
    ...extra,
  };
}

const never = (): Promise<void> => new Promise<void>(() => undefined);

async function failure(promise: Promise<unknown>): Promise<{ code?: string; message?: string } | undefined> {
  return promise.then(
    () => undefined,
    (error: unknown) => error as { code?: string; message?: string },
  );
}

describe('azure settlement after a dropped connection', () => {
  it('knows whether the link a message arrived on is still open (and assumes open when the SDK shape is unknown)', () => {
    const { message, closeLink } = messageOnLink();
    expect(receivedOnClosedLink(message)).to.equal(false);
    closeLink();
    expect(receivedOnClosedLink(message)).to.equal(true);
    expect(receivedOnClosedLink({ messageId: 'x' } as unknown as ServiceBusReceivedMessage)).to.equal(false);
  });

  it('an ack on a closed link rejects with SETTLEMENT_FAILED without calling the SDK', async () => {
    const calls: string[] = [];
    const { message, closeLink } = messageOnLink();
    const delivery = testDelivery(
      message,
      context({ completeMessage: () => (calls.push('complete'), Promise.resolve()) }),
    );
    closeLink();
    const error = await failure(delivery.ack());
    expect(error?.code).to.equal('SETTLEMENT_FAILED');
    expect(error?.message).to.contain('redelivers it when its lock expires');
    expect(calls).to.deep.equal([]);
  });

  it('a retry on a closed link sends no copy', async () => {
    const sent: unknown[] = [];
    const { message, closeLink } = messageOnLink();
    const delivery = testDelivery(
      message,
      context({}, { sendCopy: (copy) => (sent.push(copy), Promise.resolve()) }),
    );
    closeLink();
    expect((await failure(delivery.retry(100)))?.code).to.equal('SETTLEMENT_FAILED');
    expect(sent).to.deep.equal([]);
  });

  it('an ack cut off by the link closing resolves when the broker provably applied it, and rejects otherwise', async () => {
    for (const applied of [true, false]) {
      const { message, closeLink } = messageOnLink();
      const delivery = testDelivery(
        message,
        context({ completeMessage: never }, { confirmRemoved: () => Promise.resolve(applied) }),
      );
      const ack = failure(delivery.ack());
      closeLink();
      const error = await ack;
      if (applied) expect(error).to.equal(undefined);
      else expect(error?.code).to.equal('SETTLEMENT_FAILED');
    }
  });

  it('an in-place retry (abandon) cut off by the link closing rejects (it is not a removal)', async () => {
    let asked = false;
    const { message, closeLink } = messageOnLink();
    const delivery = testDelivery(
      message,
      context(
        { abandonMessage: never },
        { retryMode: 'in-place', confirmRemoved: () => ((asked = true), Promise.resolve(true)) },
      ),
    );
    const retry = failure(delivery.retry(0));
    closeLink();
    expect((await retry)?.code).to.equal('SETTLEMENT_FAILED');
    expect(asked).to.equal(false);
  });

  it('settleWhileLinkOpen passes the settlement through while the link stays open', async () => {
    const { message } = messageOnLink();
    expect(await settleWhileLinkOpen(message, Promise.resolve(42), () => new Error('closed'))).to.equal(42);
    const error = await failure(
      settleWhileLinkOpen(message, Promise.reject(new Error('sdk')), () => new Error('closed')),
    );
    expect(error?.message).to.equal('sdk');
  });

  it('confirms a removal only when a peek from the sequence number no longer shows the message', async () => {
    const { message } = messageOnLink();
    const peekReturning = (sequence: number | undefined) =>
      ({
        peekMessages: () =>
          Promise.resolve(sequence === undefined ? [] : [{ sequenceNumber: seq(sequence) }]),
      }) as unknown as ServiceBusReceiver;
    expect(await confirmRemovedByPeek(peekReturning(undefined), message, 1_000)).to.equal(true);
    expect(await confirmRemovedByPeek(peekReturning(9), message, 1_000)).to.equal(true);
    expect(await confirmRemovedByPeek(peekReturning(7), message, 1_000)).to.equal(false);
    const failing = {
      peekMessages: () => Promise.reject(new Error('down')),
    } as unknown as ServiceBusReceiver;
    expect(await confirmRemovedByPeek(failing, message, 1_000)).to.equal(false);
    const hanging = { peekMessages: never } as unknown as ServiceBusReceiver;
    expect(await confirmRemovedByPeek(hanging, message, 10)).to.equal(false);
    const { message: expired } = messageOnLink({ lockedUntilUtc: new Date(Date.now() - 1) });
    expect(await confirmRemovedByPeek(peekReturning(undefined), expired, 1_000)).to.equal(false);
  });

  it('the message lock keeper renews until stopped, and not at all when the lock outlasts its window', async () => {
    const renewed: number[] = [];
    const { message } = messageOnLink({ lockedUntilUtc: new Date(Date.now() + 2_000) });
    const receiver = {
      renewMessageLock: (m: ServiceBusReceivedMessage) => {
        renewed.push(Date.now());
        m.lockedUntilUtc = new Date(Date.now() + 2_000);
        return Promise.resolve(m.lockedUntilUtc);
      },
    } as unknown as ServiceBusReceiver;
    const keeper = keepMessageLocked(receiver, message, 2_000, 60_000);
    const deadline = Date.now() + 10_000;
    while (renewed.length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    keeper.stop();
    const count = renewed.length;
    expect(count).to.be.at.least(1);
    const { message: longLocked } = messageOnLink({ lockedUntilUtc: new Date(Date.now() + 60_000) });
    keepMessageLocked(receiver, longLocked, 2_000, 1_000).stop();
    await new Promise((r) => setTimeout(r, 1_200));
    expect(renewed.length, 'no renewal after stop, none when the lock outlasts the window').to.equal(count);
  });
});

describe('allowSlowDrain (the SDK closes a receive link whose drain answer takes over 200 ms)', () => {
  it("sets the drain timeout of the installed SDK's batching receiver, created by receiveMessages", async () => {
    // Nothing listens on port 1: the receive fails, but the SDK creates its batching receiver first.
    const client = new ServiceBusClient(
      'Endpoint=sb://127.0.0.1:1;SharedAccessKeyName=k;SharedAccessKey=v;UseDevelopmentEmulator=true;',
      { retryOptions: { maxRetries: 0, timeoutInMs: 200 } },
    );
    const receiver = client.createReceiver('q');
    try {
      const receiving = receiver.receiveMessages(1, { maxWaitTimeInMs: 50 }).catch(() => undefined);
      allowSlowDrain(receiver, 4_321);
      const lite = (
        receiver as unknown as {
          _batchingReceiver?: { _batchingReceiverLite?: { _drainTimeoutInMs?: unknown } };
        }
      )._batchingReceiver?._batchingReceiverLite;
      expect(lite?._drainTimeoutInMs, 'the SDK shape allowSlowDrain relies on').to.equal(4_321);
      await receiving;
    } finally {
      await receiver.close().catch(() => undefined);
      await client.close().catch(() => undefined);
    }
  });

  it('does nothing on a receiver without that shape', () => {
    const receiver = {} as unknown as ServiceBusReceiver;
    allowSlowDrain(receiver, 1_000);
    expect(receiver).to.deep.equal({});
  });
});
