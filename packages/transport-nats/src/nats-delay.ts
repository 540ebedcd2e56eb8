import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { ConsumerConfig, JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/transport-node';
import { WireHeaders } from '@omnibus/core';
import { sleep } from '@omnibus/core/adapter-kit';
import { provisioningError } from './nats-error-mapper.js';
import { decodeHeaderValue, fromNatsHeaders } from './nats-message-mapper.js';
import type { NatsNames } from './nats-names.js';
import type { NatsTransportOptions } from './nats-options.js';
import { PulledMessage } from './nats-pulled-message.js';
import { NatsPuller } from './nats-puller.js';
import { ensureNatsStream } from './nats-topology.js';

/** Header of a delayed message: when it is due (ms since epoch, the publisher's clock). */
export const DUE_HEADER = 'omnibus-nats-due-at';
/** Header of a delayed message: the destination it is forwarded to once due. */
export const DESTINATION_HEADER = 'omnibus-nats-destination';
/** Suffix of the `Nats-Msg-Id` a forwarded copy carries in its destination's stream. */
export const FORWARD_ID_SUFFIX = '~delayed';

const NANOS_PER_MS = 1_000_000;
/** Most messages a forwarder holds at once (one pull request asks for the room left). */
const MAX_HELD = 256;
/** Server-side expiry of one forwarder pull request. */
const PULL_EXPIRES_MS = 5_000;
/** Shortest ack wait of the delay consumer (a due message is forwarded within it, then acked). */
const MIN_ACK_WAIT_MS = 30_000;
/** Wait before a message whose forward failed (its destination's stream is gone, say) is tried again. */
const FORWARD_RETRY_MS = 5_000;
const MAX_BACKOFF_MS = 5_000;

/** What the forwarder needs of its transport. */
export interface NatsDelayContext {
  readonly names: NatsNames;
  readonly options: NatsTransportOptions;
  /**
   * Publish a due message to its destination and resolve on the PubAck, de-duplicated by
   * `msgId` within the destination stream's duplicate window.
   */
  readonly forward: (
    destination: string,
    wire: Readonly<Record<string, string>>,
    payload: Uint8Array,
    msgId: string,
  ) => Promise<void>;
  readonly onError: (error: unknown) => void;
}

/** The delay stream's configuration (work-queue retention: a forwarded message is removed). Pure. */
export function delayStreamConfig(
  names: NatsNames,
  options: NatsTransportOptions,
): Partial<StreamConfig> & { name: string } {
  return {
    name: names.delayStream(),
    subjects: [names.delayStreamSubjects()],
    retention: RetentionPolicy.Workqueue,
    storage: options.storage === 'memory' ? StorageType.Memory : StorageType.File,
    num_replicas: options.replicas,
    duplicate_window: options.duplicateWindowMs * NANOS_PER_MS,
    max_msg_size: -1,
  };
}

/**
 * The forwarder consumer's configuration: explicit acks; unlimited deliveries (a message not yet
 * due is nak'd with its remaining delay, each nak counts as a delivery) and unlimited ack pending
 * (a nak'd message counts as pending until it comes back). Pure.
 */
export function delayConsumerConfig(
  names: NatsNames,
  options: NatsTransportOptions,
): Partial<ConsumerConfig> & { durable_name: string } {
  return {
    durable_name: names.delayConsumer(),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: Math.max(MIN_ACK_WAIT_MS, 2 * options.publishTimeoutMs) * NANOS_PER_MS,
    max_deliver: -1,
    max_ack_pending: -1,
  };
}

/**
 * Delayed delivery on a JetStream without scheduled messages (nats-server 2.9). A delayed publish
 * goes to the prefix's delay stream (subject `<prefix>.~delay.<destination>`) with its due time
 * and destination in headers. Every started transport runs one forwarder pulling from the delay
 * stream's one durable consumer (competing with the forwarders of other transports of the
 * prefix): a message not yet due is nak'd with its remaining delay (the server brings it back
 * then); a due one is published to its destination (`Nats-Msg-Id` = envelope id + `~delayed`, so
 * a second forward after a crash within the duplicate window is dropped) and acked only after
 * the destination's PubAck. At least once: a forwarder that dies holding messages leaves them
 * to the others (or its restart) after the ack wait.
 */
export class NatsDelays {
  readonly #context: NatsDelayContext;
  readonly #abort = new AbortController();
  #ready: Promise<void> | undefined;
  #puller: NatsPuller | undefined;
  #loop: Promise<void> | undefined;
  #inFlight = new Set<Promise<void>>();
  #stopping = false;

  constructor(context: NatsDelayContext) {
    this.#context = context;
  }

  /**
   * Make sure the delay stream and its consumer exist (added in `create` mode, checked in
   * `verify` mode) and start the forwarder. Idempotent; a failed attempt is retried by the next
   * call. Rejects with `PROVISIONING_FAILED` naming the object.
   */
  start(nc: NatsConnection, jsm: JetStreamManager): Promise<void> {
    if (this.#stopping) return Promise.resolve();
    this.#ready ??= this.#ensure(jsm)
      .then(() => {
        if (!this.#stopping && this.#loop === undefined) this.#loop = this.#run(nc, jsm);
      })
      .catch((error: unknown) => {
        this.#ready = undefined;
        throw error;
      });
    return this.#ready;
  }

  /** The connection dropped: the open pull request is gone on the server; the loop asks again. */
  connectionLost(): void {
    this.#puller?.connectionLost();
  }

  /**
   * Stop forwarding: cancel the pull request, wait for the forwards under way (each ends by its
   * publish deadline); messages received meanwhile are nak'd for another forwarder. Never rejects.
   */
  async close(): Promise<void> {
    this.#stopping = true;
    this.#abort.abort();
    await this.#puller?.close();
    await this.#loop;
    await Promise.all([...this.#inFlight]);
  }

  async #ensure(jsm: JetStreamManager): Promise<void> {
    const { names, options } = this.#context;
    const stream = delayStreamConfig(names, options);
    const consumer = delayConsumerConfig(names, options);
    const verifyOnly = options.provisioning === 'verify';
    await ensureNatsStream(jsm, stream, verifyOnly, `delay stream "${stream.name}"`);
    try {
      if (verifyOnly) await jsm.consumers.info(stream.name, consumer.durable_name);
      else await jsm.consumers.add(stream.name, consumer);
    } catch (error) {
      throw provisioningError(error, `consumer "${consumer.durable_name}" of delay stream "${stream.name}"`);
    }
  }

  async #run(nc: NatsConnection, jsm: JetStreamManager): Promise<void> {
    const { names } = this.#context;
    const puller = new NatsPuller({
      nc,
      stream: names.delayStream(),
      consumer: names.delayConsumer(),
      expiresMs: PULL_EXPIRES_MS,
      onMessage: (message) => this.#track(this.#handle(nc, message)),
      onError: (error) => this.#context.onError(error),
    });
    this.#puller = puller;
    let failures = 0;
    while (!this.#stopping) {
      // Forwards under way (each bounded by the publish timeout) do not hold back the others.
      if (this.#inFlight.size >= MAX_HELD) await Promise.race([...this.#inFlight]);
      const outcome = await puller.pull(Math.max(1, MAX_HELD - this.#inFlight.size));
      if (outcome.kind === 'fulfilled' || outcome.kind === 'expired') {
        failures = 0;
        continue;
      }
      if (this.#stopping) break;
      if (outcome.kind === 'refused') {
        this.#context.onError(
          new Error(
            `NATS: pull request of the delay forwarder refused: ${String(outcome.code)} ${outcome.description}`,
          ),
        );
      }
      failures += 1;
      await sleep(Math.min(MAX_BACKOFF_MS, 50 * 2 ** failures), this.#abort.signal).catch(() => undefined);
      // A memory-storage server restart lost the delay stream: add it again (create mode).
      if (!this.#stopping && failures > 1)
        await this.#ensure(jsm).catch((error: unknown) => this.#context.onError(error));
    }
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  async #handle(nc: NatsConnection, message: PulledMessage): Promise<void> {
    const headers = message.headers;
    const due = Number(headers?.get(DUE_HEADER) ?? '');
    const destination = decodeHeaderValue(headers?.get(DESTINATION_HEADER) ?? '');
    if (!Number.isFinite(due) || destination === '') {
      // Not a message of this transport: nothing to forward it to. Dropped (reported).
      this.#context.onError(
        new Error(
          `NATS: a message in the delay stream without due time or destination (sequence ${String(message.seq)}); dropped`,
        ),
      );
      await this.#ack(nc, message).catch((error: unknown) => this.#context.onError(error));
      return;
    }
    const wait = due - Date.now();
    if (wait > 0 || this.#stopping) {
      message.nak(Math.max(0, wait));
      return;
    }
    const wire = fromNatsHeaders(headers);
    delete wire[DUE_HEADER];
    delete wire[DESTINATION_HEADER];
    try {
      const id = wire[WireHeaders.id] ?? `${this.#context.names.delayStream()}:${String(message.seq)}`;
      await this.#context.forward(destination, wire, message.data, id + FORWARD_ID_SUFFIX);
      await this.#ack(nc, message);
    } catch (error) {
      // Not acked: forwarded again later (a copy stored meanwhile is recognised by its id).
      this.#context.onError(error);
      message.nak(FORWARD_RETRY_MS);
    }
  }

  /** Ack and wait for the server's confirmation (an unconfirmed ack may be forwarded again). */
  async #ack(nc: NatsConnection, message: PulledMessage): Promise<void> {
    await nc.request(message.reply, PulledMessage.ackBody, {
      timeout: this.#context.options.settleTimeoutMs,
    });
  }
}
