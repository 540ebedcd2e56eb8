import type { JetStreamClient, JetStreamPublishOptions } from '@nats-io/jetstream';
import { ErrorCodes, OmnibusError } from '@omnibus/core';
import type { OutgoingMessage } from '@omnibus/core';
import { checkPublish, sleep } from '@omnibus/core/adapter-kit';
import type { PublishLimits } from '@omnibus/core/adapter-kit';
import { isTransient, publishError } from './nats-error-mapper.js';
import { envelopeToNatsHeaders, toNatsHeaders } from './nats-message-mapper.js';
import type { NatsNames } from './nats-names.js';
import type { NatsTransportOptions } from './nats-options.js';

/** Longest pause between re-sends of a publish that found no stream (JetStream starting). */
const RETRY_MAX_MS = 500;
/** Shortest wait for one attempt's PubAck before a de-duplicated publish is re-sent. */
const ATTEMPT_MIN_MS = 2_000;

function notConfirmed(timeoutMs: number): OmnibusError {
  return new OmnibusError(
    ErrorCodes.PUBLISH_FAILED,
    `NATS: no PubAck within publishTimeoutMs (${String(timeoutMs)} ms); the message may or may not have been stored`,
    { retriable: true },
  );
}

/**
 * Publishes to JetStream and resolves on the PubAck. Each message goes to its destination's
 * partition subject with `Nats-Msg-Id` = envelope id (when the duplicate window is on: a second
 * publish of that id within the window is acknowledged as a duplicate and not stored again)
 * and the expected stream name (a subject captured by another stream is refused).
 *
 * Checks before sending anything (the kit's `checkPublish`): payload size (`PAYLOAD_TOO_LARGE`)
 * and delay (`DELAY_OUT_OF_RANGE`: JetStream 2.9 has no scheduled messages). A batch is sent in
 * order on one connection and is not atomic.
 */
export class NatsPublisher {
  readonly #names: NatsNames;
  readonly #options: NatsTransportOptions;
  readonly #limits: PublishLimits;
  readonly #lostWaiters = new Set<() => void>();
  readonly #attemptMs: number;

  constructor(names: NatsNames, options: NatsTransportOptions, limits: PublishLimits) {
    this.#names = names;
    this.#options = options;
    this.#limits = limits;
    this.#attemptMs = Math.max(ATTEMPT_MIN_MS, Math.floor(options.publishTimeoutMs / 5));
  }

  /** Throws the typed error for a message that must not be sent. */
  check(destination: string, message: OutgoingMessage): void {
    checkPublish(this.#limits, destination, message);
  }

  /**
   * Publish every message (checked first) and resolve once JetStream acknowledged all of them.
   * A message whose PubAck does not come — the connection dropped after it was sent, or the
   * server answers that no stream captures it while JetStream is still starting — is re-sent
   * (same `Nats-Msg-Id`, so a copy stored before is recognised) until `deadline`; then the call
   * rejects with a retriable `PUBLISH_FAILED`.
   */
  async publish(
    js: JetStreamClient,
    destination: string,
    messages: readonly OutgoingMessage[],
    deadline: number,
  ): Promise<void> {
    for (const message of messages) this.check(destination, message);
    const stream = this.#names.stream(destination);
    const dedupe = this.#options.duplicateWindowMs > 0;
    const acks = messages.map(({ envelope }) => {
      const subject = this.#names.partitionSubject(
        destination,
        this.#names.partitionOf(envelope.partitionKey, envelope.id),
      );
      const options = {
        headers: envelopeToNatsHeaders(envelope),
        ...(dedupe ? { msgID: envelope.id } : {}),
        expect: { streamName: stream },
      };
      return this.#publishOne(js, subject, envelope.payload, options, deadline);
    });
    const results = await Promise.allSettled(acks);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw publishError(failed.reason, destination);
  }

  /** The transport saw the connection drop: publishes waiting for a PubAck re-send theirs. */
  connectionLost(): void {
    const waiters = [...this.#lostWaiters];
    this.#lostWaiters.clear();
    for (const waiter of waiters) waiter();
  }

  async #publishOne(
    js: JetStreamClient,
    subject: string,
    payload: Uint8Array,
    options: Partial<JetStreamPublishOptions>,
    deadline: number,
  ): Promise<void> {
    for (let tries = 1; ; tries += 1) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw notConfirmed(this.#options.publishTimeoutMs);
      let onLost: (() => void) | undefined;
      const lost = new Promise<'lost'>((resolve) => {
        onLost = () => resolve('lost');
        this.#lostWaiters.add(onLost);
      });
      // With de-duplication on, an unanswered attempt is re-sent after a while (a PubAck lost
      // across a reconnect never comes); a copy stored meanwhile is recognised by its id.
      const wait = options.msgID === undefined ? remaining : Math.min(remaining, this.#attemptMs);
      const ack = js.publish(subject, payload, { ...options, timeout: wait });
      try {
        if ((await Promise.race([ack, lost])) !== 'lost') return;
        ack.catch(() => undefined); // abandoned: its late outcome does not matter any more
      } catch (error) {
        if (!isTransient(error)) throw error;
        await sleep(Math.min(RETRY_MAX_MS, 50 * tries));
      } finally {
        if (onLost !== undefined) this.#lostWaiters.delete(onLost);
      }
    }
  }

  /** Publish one dead-lettered copy to a group's dead-letter subject (PubAck awaited). */
  async publishDeadLetter(
    js: JetStreamClient,
    destination: string,
    group: string,
    headers: Record<string, string>,
    payload: Uint8Array,
  ): Promise<void> {
    try {
      await js.publish(this.#names.deadLetterSubject(destination, group), payload, {
        headers: toNatsHeaders(headers),
        expect: { streamName: this.#names.deadLetterStream() },
        timeout: this.#options.settleTimeoutMs,
      });
    } catch (error) {
      throw publishError(error, `${destination} (dead letters of ${group})`);
    }
  }
}
