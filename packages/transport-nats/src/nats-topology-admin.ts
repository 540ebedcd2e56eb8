import type { JetStreamManager } from '@nats-io/jetstream';
import type { TopologyInspection, TopologyItem, TopologySpec } from '@omnibus/core';
import { sleep, withTimeout } from '@omnibus/core/adapter-kit';
import {
  JetStreamErrorCodes,
  deletionError,
  deletionTimedOut,
  isTransient,
  jetStreamErrorCode,
  provisioningError,
} from './nats-error-mapper.js';
import type { NatsNames } from './nats-names.js';

/** One deletion: what it removes, how, and which JetStream error codes mean "already gone". */
interface DeletionStep {
  readonly what: string;
  readonly run: () => Promise<unknown>;
  readonly gone: readonly number[];
}

/** Pause between attempts of a step that failed transiently (server away, JetStream starting). */
const RETRY_PAUSE_MS = 250;

/**
 * Delete what the NATS transport provisions for `topology`, in this order: per group its durable
 * consumers and its dead letters (its subject of the prefix's dead-letter stream is purged; the
 * stream itself is shared by the prefix and stays), then per destination its stream
 * `<prefix>_<destination>` with its messages (and any other consumer on it).
 *
 * Idempotent: a missing stream or consumer is skipped. A step failing transiently (no responders
 * while JetStream starts, a request timeout, a reconnect) is tried again. Bounded by `timeoutMs`:
 * past it, rejects with a retriable `PROVISIONING_FAILED` naming what is left; a refusal (for
 * example missing permissions) rejects at once, mapped by the NATS error mapper.
 */
export async function deleteNatsTopology(
  jsm: JetStreamManager,
  names: NatsNames,
  topology: TopologySpec,
  timeoutMs: number,
): Promise<void> {
  const steps: DeletionStep[] = [];
  const { CONSUMER_NOT_FOUND, STREAM_NOT_FOUND } = JetStreamErrorCodes;
  for (const destination of topology.destinations) {
    const stream = names.stream(destination.name);
    for (const group of destination.groups) {
      for (const consumer of names.consumers(group.name, group.ordered)) {
        steps.push({
          what: `consumer "${consumer}" of stream "${stream}"`,
          run: () => jsm.consumers.delete(stream, consumer),
          gone: [CONSUMER_NOT_FOUND, STREAM_NOT_FOUND],
        });
      }
      const deadLetters = names.deadLetterStream();
      const subject = names.deadLetterSubject(destination.name, group.name);
      steps.push({
        what: `dead letters "${subject}" of stream "${deadLetters}"`,
        run: () => jsm.streams.purge(deadLetters, { filter: subject }),
        gone: [STREAM_NOT_FOUND],
      });
    }
    steps.push({
      what: `stream "${stream}"`,
      run: () => jsm.streams.delete(stream),
      gone: [STREAM_NOT_FOUND],
    });
  }

  const deadline = Date.now() + timeoutMs;
  const left = (): number => deadline - Date.now();
  const remaining = (from: number): string[] => steps.slice(from).map((step) => step.what);
  for (let index = 0; index < steps.length; index += 1) {
    const step = steps[index] as DeletionStep;
    for (;;) {
      const attempt = await withTimeout(
        step.run().then(
          () => ({ failed: false as const }),
          (error: unknown) => ({ failed: true as const, error }),
        ),
        Math.max(0, left()),
      );
      if (!attempt.settled) throw deletionTimedOut(timeoutMs, remaining(index));
      if (!attempt.value.failed) break;
      const { error } = attempt.value;
      const code = jetStreamErrorCode(error);
      if (code !== undefined && step.gone.includes(code)) break;
      if (!isTransient(error)) throw deletionError(error, step.what);
      if (left() <= 0) throw deletionTimedOut(timeoutMs, remaining(index), error);
      await sleep(Math.min(RETRY_PAUSE_MS, left()));
    }
  }
}

/**
 * Which JetStream objects of `topology` exist, creating nothing: per destination its stream, per
 * group its durable consumers (present when all of them exist) and its dead-letter destination,
 * the prefix's dead-letter stream (marked `shared`: deleting a topology never removes it).
 * Rejects with `PROVISIONING_FAILED` when the server cannot be asked.
 */
export async function inspectNatsTopology(
  jsm: JetStreamManager,
  names: NatsNames,
  topology: TopologySpec,
): Promise<TopologyInspection> {
  const { CONSUMER_NOT_FOUND, STREAM_NOT_FOUND } = JetStreamErrorCodes;
  const exists = async (what: string, ask: () => Promise<unknown>): Promise<boolean> => {
    try {
      await ask();
      return true;
    } catch (error) {
      const code = jetStreamErrorCode(error);
      if (code === STREAM_NOT_FOUND || code === CONSUMER_NOT_FOUND) return false;
      throw provisioningError(error, `inspecting ${what}`);
    }
  };
  const state = (present: boolean): 'present' | 'missing' => (present ? 'present' : 'missing');
  const deadLetterStream = names.deadLetterStream();
  const deadLetters = await exists(`stream "${deadLetterStream}"`, () => jsm.streams.info(deadLetterStream));
  const items: TopologyItem[] = [];
  for (const destination of topology.destinations) {
    const stream = names.stream(destination.name);
    const streamPresent = await exists(`stream "${stream}"`, () => jsm.streams.info(stream));
    items.push({
      kind: 'destination',
      destination: destination.name,
      nativeName: stream,
      state: state(streamPresent),
    });
    for (const group of destination.groups) {
      const consumers = names.consumers(group.name, group.ordered);
      let all = streamPresent;
      for (const consumer of consumers) {
        if (!all) break;
        all = await exists(`consumer "${consumer}" of stream "${stream}"`, () =>
          jsm.consumers.info(stream, consumer),
        );
      }
      items.push({
        kind: 'group',
        destination: destination.name,
        group: group.name,
        nativeName: `${consumers.length === 1 ? 'consumer' : 'consumers'} ${consumers.join(', ')} of stream ${stream}`,
        state: state(all),
      });
      items.push({
        kind: 'dead-letter',
        destination: destination.name,
        group: group.name,
        nativeName: `subject ${names.deadLetterSubject(destination.name, group.name)} of stream ${deadLetterStream}`,
        state: state(deadLetters),
        shared: true,
      });
    }
  }
  return { items };
}
