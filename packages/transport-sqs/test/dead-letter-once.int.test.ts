// Dead-lettering at most once: when the delete that follows an accepted dead-letter copy is lost
// (the endpoint restarted in between), the original comes back; it must be deleted, not handled
// again past maxAttempts and dead-lettered a second time (issue 15's chaos run saw exactly that).
import { DeleteMessageBatchCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import type { Subscription } from '@omnibus/core';
import { waitFor } from '@omnibus/core/testing';
import { SqsTransport } from '../src/index.js';
import {
  cleanUp,
  drainQueue,
  nativeClients,
  queueNames,
  queueUrl,
  testOptions,
} from './support/sqs-test-env.js';

describe('SQS dead-letters a message at most once when the delete after the copy is lost', function () {
  this.timeout(60_000);
  // eslint-disable-next-line @typescript-eslint/unbound-method -- restored as is after the test
  const send = SQSClient.prototype.send;
  let transport: SqsTransport | undefined;
  let subscription: Subscription | undefined;
  const native = nativeClients('standard');

  afterEach(async () => {
    SQSClient.prototype.send = send;
    await subscription?.close(0);
    await transport?.close(0);
  });

  after(async () => {
    native.sqs.destroy();
    native.sns.destroy();
    await cleanUp('standard');
  });

  it('deletes the returning original without a handler run: one dead-letter copy, one run', async () => {
    const destination = `dead-letter-once.${randomUUID().slice(0, 8)}`;
    const options = testOptions('standard', { visibilityTimeoutSeconds: 1 });
    const names = queueNames('standard', options, destination, 'g');
    transport = new SqsTransport(options);
    await transport.provision({
      destinations: [{ name: destination, groups: [{ name: 'g', ordered: false }] }],
    });
    const mainUrl = await queueUrl(native.sqs, names.queue);

    // The first delete of the main queue is lost the way a restart loses it: the call fails, the
    // message stays and comes back when its visibility lapses.
    let lostDeletes = 0;
    SQSClient.prototype.send = function (this: SQSClient, command: unknown, ...rest: unknown[]) {
      if (
        command instanceof DeleteMessageBatchCommand &&
        command.input.QueueUrl === mainUrl &&
        lostDeletes === 0
      ) {
        lostDeletes += 1;
        return Promise.reject(Object.assign(new Error('the delete was lost'), { name: 'AccessDenied' }));
      }
      return (send as (...args: unknown[]) => Promise<unknown>).call(this, command, ...rest);
    } as typeof send;

    let runs = 0;
    const settled: string[] = [];
    subscription = await transport.subscribe(
      { destination, group: 'g', concurrency: 1, ordered: false, handlerTimeoutMs: 5_000 },
      async (d) => {
        runs += 1;
        await d.deadLetter({ code: 'HANDLER_FAILED', message: 'poison', attempts: d.deliveryAttempt }).then(
          () => settled.push('dead-lettered'),
          () => settled.push('dead-letter rejected'),
        );
      },
    );
    await transport.publish(destination, [
      {
        envelope: {
          id: randomUUID(),
          type: 'test.poison.v1',
          payload: new TextEncoder().encode('{}'),
          contentType: 'application/json',
          headers: {},
          occurredAt: new Date(),
        },
      },
    ]);
    await waitFor(() => lostDeletes === 1, { timeoutMs: 10_000, message: 'the lost delete' });
    // The original returns after its 1 s visibility and must leave the queue without a second run.
    await waitFor(
      async () => {
        const { Attributes } = await native.sqs.send(
          new GetQueueAttributesCommand({
            QueueUrl: mainUrl,
            AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
          }),
        );
        return (
          Attributes?.ApproximateNumberOfMessages === '0' &&
          Attributes.ApproximateNumberOfMessagesNotVisible === '0'
        );
      },
      { timeoutMs: 20_000, message: 'the returned original to be deleted' },
    );
    const copies = await drainQueue(native.sqs, await queueUrl(native.sqs, names.deadLetterQueue), 2, 3_000);
    expect(copies, 'dead-letter copies').to.have.length(1);
    expect(runs, 'handler runs').to.equal(1);
    expect(settled).to.deep.equal(['dead-letter rejected']);
  });
});
