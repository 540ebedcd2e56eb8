import type { JetStreamClient, JetStreamPublishOptions } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/transport-node';
import { WireHeaders } from '@omnibus/core';
import type { OutgoingMessage } from '@omnibus/core';
import { checkPublish, resendUntil } from '@omnibus/core/adapter-kit';
import type { PublishDeadline, PublishLimits } from '@omnibus/core/adapter-kit';
import { DESTINATION_HEADER, DUE_HEADER } from './nats-delay.js';
import { isTransient, publishError } from './nats-error-mapper.js';
import { encodeHeaderValue, envelopeToNatsHeaders, toNatsHeaders } from './nats-message-mapper.js';
import type { NatsNames } from './nats-names.js';
import type { NatsTransportOptions } from './nats-options.js';

/** Shortest wait for one attempt's PubAck before a de-duplicated publish is re-sent. */
const ATTEMPT_MIN_MS = 2_000;

/** What an attempt throws when the connection dropped while it waited for its PubAck. */
class ConnectionLostError extends Error {
  constructor() {
    super('NATS: the connection dropped before the PubAck came (disconnect); re-sending');
    this.name = 'ConnectionLostError';
  }
}

/**
 * Publishes to JetStream and resolves on the PubAck. Each message goes to its destination's
 * partition subject with `Nats-Msg-Id` = envelope id (when the duplicate window is on: a second
 * publish of that id within the window is acknowledged as a duplicate and not stored again)
 * and the expected stream name (a subject captured by another stream is refused).
 *
 * Checks before sending anything (the kit's `checkPublish`): payload size (`PAYLOAD_TOO_LARGE`)
 * and delay (`DELAY_OUT_OF_RANGE` above `maxRetryDelayMs`). A delayed message goes to the
 * prefix's delay stream with its due time and destination (see `NatsDelays`, which forwards it
 * when due). A batch is sent in order on one connection and is not atomic.
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

  /** Throws the typed error for a message that must not be sent; returns its delay (0 for none). */
  check(destination: string, message: OutgoingMessage): number {
    return checkPublish(this.#limits, destination, message);
  }

  /**
   * Publish every message (checked first) and resolve once JetStream acknowledged all of them.
   * Each message is sent with the kit's `resendUntil`: a message whose PubAck does not come — the
   * connection dropped after it was sent, the server answers that no stream captures it while
   * JetStream is still starting, or (with de-duplication on) no answer within an attempt's wait —
   * is re-sent (same `Nats-Msg-Id`, so a copy stored before is recognised) until `deadline`; then
   * the call rejects with a retriable `PUBLISH_FAILED`.
   */
  async publish(
    js: JetStreamClient,
    destination: string,
    messages: readonly OutgoingMessage[],
    deadline: PublishDeadline,
  ): Promise<void> {
    const delays = messages.map((message) => this.check(destination, message));
    const acks = messages.map(({ envelope }, n) => {
      const delayMs = delays[n] ?? 0;
      const headers = envelopeToNatsHeaders(envelope);
      if (delayMs === 0)
        return this.#send(
          js,
          destination,
          envelope.partitionKey,
          envelope.id,
          headers,
          envelope.payload,
          deadline,
        );
      headers.set(DUE_HEADER, String(Date.now() + delayMs));
      headers.set(DESTINATION_HEADER, encodeHeaderValue(destination));
      return this.#sendTo(
        js,
        destination,
        this.#names.delaySubject(destination),
        this.#names.delayStream(),
        envelope.id,
        headers,
        envelope.payload,
        deadline,
        this.#options.duplicateWindowMs > 0,
      );
    });
    const results = await Promise.allSettled(acks);
    const failed = results.find((r) => r.status === 'rejected');
    if (failed !== undefined) throw publishError(failed.reason, destination);
  }

  /**
   * Publish one message given as wire headers (a dead letter's replay: its original id, key and
   * headers; a due delayed message) the way {@link publish} does: to its key's partition subject,
   * re-sent until `deadline`. De-duplicated only by `msgId` when given (a replay carries the id of
   * a message stored before, so it passes none).
   */
  async publishWire(
    js: JetStreamClient,
    destination: string,
    wire: Readonly<Record<string, string>>,
    payload: Uint8Array,
    deadline: PublishDeadline,
    msgId?: string,
  ): Promise<void> {
    const id = wire[WireHeaders.id] ?? '';
    const partition = this.#names.partitionOf(wire[WireHeaders.partitionKey], id);
    const subject = this.#names.partitionSubject(destination, partition);
    const dedupe = msgId !== undefined && this.#options.duplicateWindowMs > 0;
    const stream = this.#names.stream(destination);
    try {
      await this.#sendTo(
        js,
        destination,
        subject,
        stream,
        msgId ?? id,
        toNatsHeaders(wire),
        payload,
        deadline,
        dedupe,
      );
    } catch (error) {
      throw publishError(error, destination);
    }
  }

  #send(
    js: JetStreamClient,
    destination: string,
    partitionKey: string | undefined,
    id: string,
    headers: MsgHdrs,
    payload: Uint8Array,
    deadline: PublishDeadline,
    dedupe = this.#options.duplicateWindowMs > 0,
  ): Promise<void> {
    const subject = this.#names.partitionSubject(destination, this.#names.partitionOf(partitionKey, id));
    const stream = this.#names.stream(destination);
    return this.#sendTo(js, destination, subject, stream, id, headers, payload, deadline, dedupe);
  }

  #sendTo(
    js: JetStreamClient,
    destination: string,
    subject: string,
    stream: string,
    id: string,
    headers: MsgHdrs,
    payload: Uint8Array,
    deadline: PublishDeadline,
    dedupe: boolean,
  ): Promise<void> {
    const options = {
      headers,
      ...(dedupe ? { msgID: id } : {}),
      expect: { streamName: stream },
    };
    // Each attempt's PubAck timeout is given the time left, so the kit need not watch the deadline.
    return resendUntil(
      deadline,
      { transport: 'NATS', destination, isTransient, attemptsEndByDeadline: true },
      () => this.#attempt(js, subject, payload, options, deadline),
    );
  }

  /** The transport saw the connection drop: publishes waiting for a PubAck re-send theirs. */
  connectionLost(): void {
    const waiters = [...this.#lostWaiters];
    this.#lostWaiters.clear();
    for (const waiter of waiters) waiter();
  }

  /**
   * One send, resolved by its PubAck; rejects with a transient error when the connection drops
   * meanwhile. With de-duplication on, an unanswered attempt times out after a while (a PubAck
   * lost across a reconnect never comes) so that it is re-sent; a copy stored meanwhile is
   * recognised by its id.
   */
  async #attempt(
    js: JetStreamClient,
    subject: string,
    payload: Uint8Array,
    options: Partial<JetStreamPublishOptions>,
    deadline: PublishDeadline,
  ): Promise<void> {
    const remaining = Math.max(1, deadline.at - Date.now());
    const wait = options.msgID === undefined ? remaining : Math.min(remaining, this.#attemptMs);
    let onLost: (() => void) | undefined;
    const lost = new Promise<never>((_, reject) => {
      onLost = () => reject(new ConnectionLostError());
      this.#lostWaiters.add(onLost);
    });
    const ack = js.publish(subject, payload, { ...options, timeout: wait });
    ack.catch(() => undefined); // an abandoned attempt's late outcome does not matter any more
    try {
      await Promise.race([ack, lost]);
    } finally {
      if (onLost !== undefined) this.#lostWaiters.delete(onLost);
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
