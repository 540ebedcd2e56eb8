import type { JetStreamClient } from '@nats-io/jetstream';
import type { OutgoingMessage } from '@omnibus/core';
import { checkPublish } from '@omnibus/core/adapter-kit';
import type { PublishLimits } from '@omnibus/core/adapter-kit';
import { publishError } from './nats-error-mapper.js';
import { envelopeToNatsHeaders, toNatsHeaders } from './nats-message-mapper.js';
import type { NatsNames } from './nats-names.js';
import type { NatsTransportOptions } from './nats-options.js';

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

  constructor(names: NatsNames, options: NatsTransportOptions, limits: PublishLimits) {
    this.#names = names;
    this.#options = options;
    this.#limits = limits;
  }

  /** Throws the typed error for a message that must not be sent. */
  check(destination: string, message: OutgoingMessage): void {
    checkPublish(this.#limits, destination, message);
  }

  /** Publish every message (checked first) and resolve once JetStream acknowledged all of them. */
  async publish(
    js: JetStreamClient,
    destination: string,
    messages: readonly OutgoingMessage[],
  ): Promise<void> {
    for (const message of messages) this.check(destination, message);
    const stream = this.#names.stream(destination);
    const dedupe = this.#options.duplicateWindowMs > 0;
    const acks = messages.map(({ envelope }) => {
      const subject = this.#names.partitionSubject(
        destination,
        this.#names.partitionOf(envelope.partitionKey, envelope.id),
      );
      return js.publish(subject, envelope.payload, {
        headers: envelopeToNatsHeaders(envelope),
        ...(dedupe ? { msgID: envelope.id } : {}),
        expect: { streamName: stream },
        timeout: this.#options.publishTimeoutMs,
      });
    });
    const results = await Promise.allSettled(acks);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw publishError(failed.reason, destination);
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
        timeout: this.#options.publishTimeoutMs,
      });
    } catch (error) {
      throw publishError(error, `${destination} (dead letters of ${group})`);
    }
  }
}
