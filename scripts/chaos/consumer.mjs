// One consumer process of the chaos run (forked by scripts/chaos/cli.mjs). It runs an EventBus on
// the broker under test with one handler group and reports every settlement to its parent over IPC:
//   { type: 'ready' } once bus.start() resolved; { type: 'settled', id, outcome, attempt, at }.
// Poison messages ({ poison: true }) always throw, so they are dead-lettered after maxAttempts;
// malformed ones never reach the handler (the router dead-letters what it cannot decode).
import { appendFileSync } from 'node:fs';
import { createEventBus, EventHandler } from '@omnibus/core';
import { chaosEvent, MAX_ATTEMPTS, transportFor } from './setup.mjs';

const [broker, runId, handledFile] = process.argv.slice(2);
const Ledgered = chaosEvent();
const send = (message) => process.send?.(message);

class ChaosHandler {
  async handle(payload, context) {
    // Written before the handler returns (so before the ack), synchronously: it survives a SIGKILL
    // that comes between the ack and the IPC report of it.
    if (handledFile) appendFileSync(handledFile, `${context.envelope.id}\n`);
    if (payload.poison) throw new Error(`poison message ${payload.n}`);
  }
}
EventHandler(Ledgered, {
  group: 'chaos',
  concurrency: 8,
  retry: { maxAttempts: MAX_ATTEMPTS, initialDelayMs: 200, maxDelayMs: 1_000 },
})(ChaosHandler.prototype, 'handle', Object.getOwnPropertyDescriptor(ChaosHandler.prototype, 'handle'));

const bus = createEventBus({ transport: transportFor(broker, runId), handlers: [ChaosHandler] });
bus.on('message.settled', (event) => {
  // Written once the broker confirmed the ack, synchronously, before the IPC report: an event
  // handled but never acked (no line here) that never came back was lost by the broker, not cut off.
  if (handledFile && event.outcome === 'acked') appendFileSync(handledFile, `acked ${event.envelope.id}\n`);
  send({
    type: 'settled',
    id: event.envelope.id,
    outcome: event.outcome,
    attempt: event.attempt,
    at: Date.now(),
  });
});
const t0 = Date.now();
try {
  await bus.start();
  send({ type: 'ready', ms: Date.now() - t0 });
} catch (error) {
  send({
    type: 'start-failed',
    ms: Date.now() - t0,
    error: `${error?.code ?? ''} ${error?.message ?? error}`,
  });
  process.exit(2);
}
process.on('message', (message) => {
  if (message?.type === 'stop') void bus.stop({ drainTimeoutMs: 5_000 }).finally(() => process.exit(0));
});
