import { expect } from 'chai';
import type { ServiceBusMessage, ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { ServiceBusError } from '@azure/service-bus';
import { testDelivery } from './support/delivery-fixture.js';
import type { TestSettlementContext } from './support/delivery-fixture.js';
import { giveBack } from '../src/consumers/consumer-context.js';
import { fromReceivedMessage, uncountedReceiveProperties } from '../src/message-mapper.js';

interface Call {
  readonly op: string;
  readonly args: unknown[];
}

function fakeReceiver(calls: Call[], fail?: Error): ServiceBusReceiver {
  const record =
    (op: string) =>
    (...args: unknown[]): Promise<void> => {
      calls.push({ op, args });
      return fail === undefined ? Promise.resolve() : Promise.reject(fail);
    };
  return {
    completeMessage: record('complete'),
    abandonMessage: record('abandon'),
    deadLetterMessage: record('deadLetter'),
  } as unknown as ServiceBusReceiver;
}

const message = {
  body: Buffer.from('x'),
  messageId: 'm1',
  sessionId: 'k',
  deliveryCount: 1,
  applicationProperties: { 'ce-id': 'm1', 'ce-type': 't', 'x-h': 'v' },
} as unknown as ServiceBusReceivedMessage;

function setup(retryMode: TestSettlementContext['retryMode'], fail?: Error) {
  const calls: Call[] = [];
  const waits: number[] = [];
  const context: TestSettlementContext = {
    receiver: fakeReceiver(calls, fail),
    destination: 'orders',
    group: 'billing',
    subscription: 'billing',
    retryMode,
    sendCopy: (copy: ServiceBusMessage) => {
      calls.push({ op: 'send', args: [copy] });
      return Promise.resolve();
    },
    wait: (ms) => {
      waits.push(ms);
      calls.push({ op: 'wait', args: [ms] });
      return Promise.resolve();
    },
    maxRetryDelayMs: 10_000,
  };
  const delivery = testDelivery(message, context);
  return { calls, waits, delivery };
}

describe('azure delivery settlement', () => {
  it('exposes the attempt from the broker count and completes on ack, once', async () => {
    const { calls, delivery } = setup('scheduled-copy');
    expect(delivery.deliveryAttempt).to.equal(2);
    expect(delivery.destination).to.equal('orders');
    expect(delivery.group).to.equal('billing');
    await delivery.ack();
    await delivery.ack();
    await delivery.retry(10);
    expect(calls.map((c) => c.op)).to.deep.equal(['complete']);
    expect(delivery.pending).to.equal(false);
  });

  it('retries unordered messages by sending a scheduled copy before completing the original', async () => {
    const { calls, delivery } = setup('scheduled-copy');
    await delivery.retry(250);
    expect(calls.map((c) => c.op)).to.deep.equal(['send', 'complete']);
    const copy = calls[0]?.args[0] as ServiceBusMessage;
    expect(copy.applicationProperties?.['omnibus-delivery-attempt']).to.equal('3');
    expect(copy.applicationProperties?.['omnibus-retry-subscription']).to.equal('billing');
    expect(copy.scheduledEnqueueTimeUtc).to.be.instanceOf(Date);
  });

  it('does not complete the original when the copy could not be sent', async () => {
    const calls: Call[] = [];
    const delivery = testDelivery(message, {
      receiver: fakeReceiver(calls),
      destination: 'orders',
      group: 'billing',
      subscription: 'billing',
      retryMode: 'scheduled-copy',
      sendCopy: () => Promise.reject(new ServiceBusError('down', 'ServiceCommunicationProblem')),
      wait: () => Promise.resolve(),
      maxRetryDelayMs: 10_000,
    });
    const error = await delivery.retry(0).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as { code: string }).code).to.equal('SETTLEMENT_FAILED');
    expect(calls).to.deep.equal([]);
  });

  it('retries ordered messages in place: wait, then abandon', async () => {
    const { calls, waits, delivery } = setup('in-place');
    await delivery.retry(300);
    expect(calls.map((c) => c.op)).to.deep.equal(['wait', 'abandon']);
    expect(waits).to.deep.equal([300]);
  });

  it('dead-letters natively with reason, description and the omnibus properties', async () => {
    const { calls, delivery } = setup('scheduled-copy');
    await delivery.deadLetter({ code: 'HANDLER_FAILED', message: 'boom', attempts: 3 });
    expect(calls).to.have.length(1);
    const options = calls[0]?.args[1] as Record<string, unknown>;
    expect(options).to.include({
      deadLetterReason: 'HANDLER_FAILED',
      deadLetterErrorDescription: 'boom',
      'omnibus-dead-letter-code': 'HANDLER_FAILED',
      'omnibus-dead-letter-reason': 'boom',
      'omnibus-dead-letter-attempts': '3',
      'omnibus-dead-letter-destination': 'orders',
      'omnibus-dead-letter-group': 'billing',
    });
  });

  it('rejects a retry delay outside 0…maxRetryDelayMs with DELAY_OUT_OF_RANGE and stays settleable', async () => {
    const { calls, delivery } = setup('scheduled-copy');
    for (const bad of [10_001, -1, Number.NaN]) {
      const error = await delivery.retry(bad).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect((error as { code: string }).code).to.equal('DELAY_OUT_OF_RANGE');
    }
    expect(delivery.pending).to.equal(true);
    await delivery.ack();
    expect(calls.map((c) => c.op)).to.deep.equal(['complete']);
  });

  it('giveBack abandons an unsettled delivery once and makes later settlements reject with SETTLEMENT_FAILED', async () => {
    const { calls, delivery } = setup('scheduled-copy');
    await giveBack(delivery);
    await giveBack(delivery);
    const error = await delivery.ack().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as { code: string }).code).to.equal('SETTLEMENT_FAILED');
    expect(calls.map((c) => c.op)).to.deep.equal(['abandon']);
  });

  it('giveBack leaves a settled delivery alone', async () => {
    const { calls, delivery } = setup('scheduled-copy');
    await delivery.ack();
    await giveBack(delivery);
    expect(calls.map((c) => c.op)).to.deep.equal(['complete']);
  });

  it('a receive given back unstarted is not counted: the attempt stays, in any process', () => {
    const abandonedOnce = {
      ...message,
      deliveryCount: 2,
      applicationProperties: { ...message.applicationProperties, ...uncountedReceiveProperties(message) },
    } as unknown as ServiceBusReceivedMessage;
    expect(uncountedReceiveProperties(message)).to.deep.equal({ 'omnibus-uncounted-receives': 1 });
    expect(fromReceivedMessage(abandonedOnce).deliveryAttempt).to.equal(2);
    expect(uncountedReceiveProperties(abandonedOnce)).to.deep.equal({ 'omnibus-uncounted-receives': 2 });
  });

  it('a retry copy does not carry the uncounted receives of its original', async () => {
    const abandoned = {
      ...message,
      applicationProperties: { ...message.applicationProperties, 'omnibus-uncounted-receives': 3 },
    } as unknown as ServiceBusReceivedMessage;
    const calls: Call[] = [];
    const delivery = testDelivery(abandoned, {
      receiver: fakeReceiver(calls),
      destination: 'orders',
      group: 'billing',
      subscription: 'billing',
      retryMode: 'scheduled-copy',
      sendCopy: (copy) => (calls.push({ op: 'send', args: [copy] }), Promise.resolve()),
      wait: () => Promise.resolve(),
      maxRetryDelayMs: 10_000,
    });
    expect(delivery.deliveryAttempt).to.equal(1);
    await delivery.retry(0);
    const copy = calls[0]?.args[0] as ServiceBusMessage;
    expect(copy.applicationProperties?.['omnibus-delivery-attempt']).to.equal('2');
    expect(copy.applicationProperties).to.not.have.property('omnibus-uncounted-receives');
  });

  it('maps settlement failures to SETTLEMENT_FAILED', async () => {
    const { delivery } = setup('scheduled-copy', new ServiceBusError('lock', 'MessageLockLost'));
    const error = await delivery.ack().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect((error as { code: string }).code).to.equal('SETTLEMENT_FAILED');
  });
});
