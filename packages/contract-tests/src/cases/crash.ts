import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import type { ContractCase } from '../contract-case.js';
import type { ChildConsumerReport, ChildConsumerRequest } from '../child/sigkill-consumer.js';

const CHILD_ENTRY = fileURLToPath(new URL('../child/sigkill-consumer.js', import.meta.url));

function waitForReport(
  child: ChildProcess,
  type: 'delivered' | 'subscribed',
  timeoutMs: number,
): Promise<ChildConsumerReport> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => finish(new Error(`the child consumer sent no "${type}" within ${String(timeoutMs)} ms`)),
      timeoutMs,
    );
    const onMessage = (message: ChildConsumerReport): void => {
      if (message.type === 'error') finish(new Error(`child consumer failed: ${message.message}`));
      else if (message.type === type) finish(undefined, message);
    };
    const onExit = (code: number | null, signal: string | null): void =>
      finish(new Error(`the child consumer exited early (code ${String(code)}, signal ${String(signal)})`));
    function finish(error?: Error, message?: ChildConsumerReport): void {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
      if (error !== undefined) reject(error);
      else resolve(message as ChildConsumerReport);
    }
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

function killHard(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** C8: at-least-once when a consumer process is SIGKILLed mid-handler. */
export const sigkillCase: ContractCase = {
  id: 'C8',
  rules: [1, 4],
  title:
    'a consumer process killed with SIGKILL mid-handler loses nothing: the message is redelivered with attempt ≥ 2',
  faults: ['childTransportModule'],
  timeoutMs: 90_000,
  async run(ctx) {
    const module = ctx.options.faults?.childTransportModule;
    if (module === undefined) return;
    const t = await ctx.transport();
    const { destination, groups } = await ctx.topology(t);
    const group = groups[0] as string;
    const sent = ctx.envelope();
    await ctx.publish(t, destination, [sent]);
    const child = fork(CHILD_ENTRY, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    try {
      const request: ChildConsumerRequest = { module, destination, group };
      child.send(request);
      const delivered = await waitForReport(child, 'delivered', ctx.ms(30_000));
      if (delivered.type !== 'delivered') return;
      expect(delivered.id, 'the child received the published message').to.equal(sent.id);
      ctx.ledger.recordRemoteDelivery(group, delivered.id, delivered.attempt, 'child');
      ctx.markFaultInjected();
      await killHard(child);
    } finally {
      await killHard(child);
    }
    const consumer = await ctx.consume(t, { destination, group });
    await ctx.waitForIds(consumer, [sent.id], 'the redelivery after SIGKILL', 60_000);
    const attempt = consumer.received[0]?.delivery.deliveryAttempt ?? 0;
    expect(attempt, 'deliveryAttempt after the killed attempt').to.be.at.least(2);
  },
};
