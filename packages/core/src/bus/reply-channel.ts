import { randomUUID } from 'node:crypto';
import type { Codec } from '../codec/codec.js';
import { ErrorCodes } from '../errors/error-codes.js';
import { OmnibusError } from '../errors/omnibus-error.js';
import type { Logger } from '../logging/logger.js';
import { createEnvelope } from '../message/create-envelope.js';
import type { MessageEnvelope } from '../message/envelope.js';
import type { Delivery } from '../transport/delivery.js';
import type { Subscription, Transport } from '../transport/transport.js';

/** Wire type of a reply message (never a user event). */
export const REPLY_TYPE = 'omnibus.reply';

/** What a replying handler sends back: its return value, or the failure that ended the request. */
export type ReplyBody =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly error: { readonly code: string; readonly message: string } };

/** Counters of one bus's requests (see `EventBus.requestStats`). */
export interface RequestStats {
  /** Requests waiting for their reply now. */
  readonly pending: number;
  /** Replies that arrived after their request timed out (or for an unknown request): discarded. */
  readonly lateReplies: number;
  /** This instance's reply destination, once the first request opened it. */
  readonly replyDestination?: string;
}

interface Pending {
  readonly type: string;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  readonly timer: ReturnType<typeof setTimeout>;
}

/**
 * One bus instance's reply destination and the requests waiting on it. The destination
 * (`omnibus.replies.<random id>`, consumed by a group of the same name) is provisioned and
 * subscribed on the first request and removed at stop where the transport can delete
 * topology. Replies are matched to requests by the request's message id (the reply's
 * `causationId`). Single event loop; `open` is idempotent and shared by concurrent callers.
 */
export class ReplyChannel {
  readonly destination = `omnibus.replies.${randomUUID()}`;
  readonly #transport: Transport;
  readonly #codec: Codec;
  readonly #logger: Logger;
  readonly #pending = new Map<string, Pending>();
  #lateReplies = 0;
  #opening: Promise<void> | undefined;
  #subscription: Subscription | undefined;
  #closed = false;

  constructor(transport: Transport, codec: Codec, logger: Logger) {
    this.#transport = transport;
    this.#codec = codec;
    this.#logger = logger;
  }

  /** Provision and subscribe the reply destination once. Rejects with the transport's typed error. */
  open(): Promise<void> {
    this.#opening ??= this.#open();
    return this.#opening;
  }

  async #open(): Promise<void> {
    const group = this.destination;
    await this.#transport.provision({
      destinations: [{ name: this.destination, groups: [{ name: group, ordered: false }] }],
    });
    this.#subscription = await this.#transport.subscribe(
      { destination: this.destination, group, concurrency: 16, ordered: false, handlerTimeoutMs: 30_000 },
      (delivery) => this.#onReply(delivery),
    );
    if (this.#closed) await this.#subscription.close(0);
  }

  /**
   * Wait for the reply to `requestId`. Rejects with `REQUEST_TIMEOUT` after `timeoutMs` (the
   * late reply, if any, is discarded and counted) or with `REQUEST_FAILED` when the handler
   * failed for good.
   */
  await(requestId: string, requestType: string, timeoutMs: number): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(
          new OmnibusError(
            ErrorCodes.REQUEST_TIMEOUT,
            `no reply to ${requestType} request ${requestId} within ${String(timeoutMs)} ms (no handler answered: is a consumer group handling "${requestType}" running?)`,
            { retriable: true },
          ),
        );
      }, timeoutMs);
      this.#pending.set(requestId, { type: requestType, resolve, reject, timer });
    });
  }

  /** Forget a request whose publish failed (its promise is rejected by the caller). */
  cancel(requestId: string): void {
    const pending = this.#pending.get(requestId);
    if (pending === undefined) return;
    clearTimeout(pending.timer);
    this.#pending.delete(requestId);
  }

  stats(): RequestStats {
    return {
      pending: this.#pending.size,
      lateReplies: this.#lateReplies,
      replyDestination: this.destination,
    };
  }

  async #onReply(delivery: Delivery): Promise<void> {
    const requestId = delivery.envelope.causationId;
    const pending = requestId === undefined ? undefined : this.#pending.get(requestId);
    if (pending === undefined || requestId === undefined) {
      this.#lateReplies += 1;
      this.#logger.debug('late or unknown reply discarded', { requestId, messageId: delivery.envelope.id });
      await delivery.ack();
      return;
    }
    this.#pending.delete(requestId);
    clearTimeout(pending.timer);
    let body: ReplyBody;
    try {
      body = this.#codec.decode(delivery.envelope.payload) as ReplyBody;
    } catch (error) {
      pending.reject(
        new OmnibusError(
          ErrorCodes.DECODE_FAILED,
          `the reply to ${pending.type} request ${requestId} could not be decoded`,
          {
            cause: error,
          },
        ),
      );
      await delivery.ack();
      return;
    }
    if (body.ok) pending.resolve(body.value);
    else
      pending.reject(
        new OmnibusError(
          ErrorCodes.REQUEST_FAILED,
          `${pending.type} request failed in its handler: ${body.error.message}`,
          { cause: body.error },
        ),
      );
    await delivery.ack();
  }

  /**
   * Reject every waiting request with `BUS_CLOSED`, close the subscription and delete the
   * reply destination where the transport can. Never rejects (failures are logged).
   */
  async close(drainTimeoutMs: number): Promise<void> {
    this.#closed = true;
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(
        new OmnibusError(ErrorCodes.BUS_CLOSED, `the bus stopped before request ${id} was answered`),
      );
    }
    this.#pending.clear();
    if (this.#opening === undefined) return;
    await this.#opening.catch(() => undefined);
    await this.#subscription?.close(drainTimeoutMs).catch((error: unknown) => {
      this.#logger.warn('closing the reply subscription failed', { error });
    });
    if (this.#transport.deleteTopology === undefined) return;
    await this.#transport
      .deleteTopology({
        destinations: [{ name: this.destination, groups: [{ name: this.destination, ordered: false }] }],
      })
      .catch((error: unknown) => {
        this.#logger.warn('removing the reply destination failed', { destination: this.destination, error });
      });
  }
}

/**
 * The reply message for `request`: type `omnibus.reply`, `causationId` = the request's id (the
 * correlation key), the request's correlation id kept. Pure apart from the new id.
 */
export function replyEnvelope(request: MessageEnvelope, body: ReplyBody, codec: Codec): MessageEnvelope {
  return createEnvelope({
    type: REPLY_TYPE,
    payload: codec.encode(body),
    contentType: codec.contentType,
    causationId: request.id,
    correlationId: request.correlationId ?? request.id,
  });
}
