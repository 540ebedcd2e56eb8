import { randomUUID } from 'node:crypto';
import type { ConfirmChannel, Message } from 'amqplib';
import { isOmnibusError } from '@omnibus/core';
import type { OmnibusError } from '@omnibus/core';
import {
  AmqpReplyCodes,
  amqpReplyCode,
  closedError,
  isChannelGone,
  publishError,
  publishTimeoutError,
  unroutableError,
} from './rabbitmq-error-mapper.js';
import type { AmqpMessageParts } from './rabbitmq-message-mapper.js';

/** One message to send: where to, and its body/properties. */
export interface PublishRequest extends AmqpMessageParts {
  readonly exchange: string;
  readonly routingKey: string;
  /** Destination named in errors (the Omnibus destination, not the AMQP exchange). */
  readonly destination: string;
}

/** Opens a confirm channel on the current connection, waiting up to `timeoutMs` for one. */
export type ConfirmChannelFactory = (timeoutMs: number) => Promise<ConfirmChannel>;

/** Header carrying a per-send token, to match a `basic.return` to its publish. Stripped on receipt (`omnibus-*`). */
const TOKEN_HEADER = 'omnibus-publish-token';

/** How often one message is re-sent after its channel was closed by a channel-level broker error. */
const MAX_CHANNEL_ERROR_RESENDS = 2;

interface OpenChannel {
  readonly channel: ConfirmChannel;
  readonly returned: Set<string>;
  closedBy: unknown;
  closed: boolean;
  drained: Promise<void> | undefined;
}

type Outcome =
  | { readonly kind: 'ok' }
  | { readonly kind: 'resend'; readonly cause: unknown; readonly channelError: boolean }
  | { readonly kind: 'fail'; readonly error: OmnibusError };

/**
 * Publishes over one shared confirm channel with a window of unconfirmed messages (never one
 * round trip per message): every message is persistent and `mandatory`; `publish` resolves once
 * the broker confirmed all of them. A returned (unroutable) or nacked message rejects with a
 * typed error. When the channel or connection drops before a confirm arrives, the unconfirmed
 * messages are sent again on the next channel until the deadline (at-least-once: a message may
 * be stored twice, never silently lost).
 *
 * Concurrency: any number of concurrent `publish` calls share the channel and the window.
 */
export class RabbitMqPublisher {
  readonly #openChannel: ConfirmChannelFactory;
  readonly #window: number;
  readonly #windowWaiters: (() => void)[] = [];
  #inFlight = 0;
  /** Per-send tokens: unique per publisher (prefix) and send (counter); cheaper than a UUID each. */
  readonly #tokenPrefix = `${randomUUID()}.`;
  #tokens = 0;
  #current: OpenChannel | undefined;
  #opening: Promise<OpenChannel> | undefined;
  #closed = false;

  constructor(openChannel: ConfirmChannelFactory, window: number) {
    this.#openChannel = openChannel;
    this.#window = window;
  }

  /**
   * Send every request and wait for all confirms, re-sending on channel loss until
   * `timeoutMs` passed. Rejects with the first failure (other messages may still be stored).
   */
  async publish(requests: readonly PublishRequest[], timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const channelErrors = new Map<PublishRequest, number>();
    let pending = [...requests];
    let lastCause: unknown;
    while (pending.length > 0) {
      if (this.#closed) throw closedError('publish');
      const remaining = deadline - Date.now();
      const first = pending[0] as PublishRequest;
      if (remaining <= 0) throw publishTimeoutError(first.destination, timeoutMs, lastCause);
      let open: OpenChannel;
      try {
        open = await this.#channel(remaining);
      } catch (error) {
        if (isOmnibusError(error)) throw error;
        lastCause = error;
        await new Promise((resolve) =>
          setTimeout(resolve, Math.min(100, Math.max(0, deadline - Date.now()))),
        );
        continue;
      }
      const outcomes = await Promise.all(pending.map((request) => this.#sendOne(open, request)));
      const next: PublishRequest[] = [];
      for (const [index, outcome] of outcomes.entries()) {
        const request = pending[index] as PublishRequest;
        if (outcome.kind === 'fail') throw outcome.error;
        if (outcome.kind !== 'resend') continue;
        lastCause = outcome.cause;
        if (outcome.channelError) {
          const count = (channelErrors.get(request) ?? 0) + 1;
          channelErrors.set(request, count);
          if (count > MAX_CHANNEL_ERROR_RESENDS) throw publishError(outcome.cause, request.destination);
        }
        next.push(request);
      }
      pending = next;
    }
  }

  /** Stop publishing and close the channel. Pending publishes reject. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const wake of this.#windowWaiters.splice(0)) wake();
    const current = this.#current;
    this.#current = undefined;
    if (current !== undefined && !current.closed) await current.channel.close().catch(() => undefined);
  }

  async #sendOne(open: OpenChannel, request: PublishRequest): Promise<Outcome> {
    if (this.#inFlight >= this.#window) await this.#acquire();
    else this.#inFlight += 1;
    try {
      if (open.drained !== undefined) await open.drained;
      if (open.closed)
        return { kind: 'resend', cause: open.closedBy ?? new Error('channel closed'), channelError: false };
      this.#tokens += 1;
      const token = `${this.#tokenPrefix}${this.#tokens.toString(36)}`;
      const headers = {
        ...(request.options.headers as Record<string, unknown> | undefined),
        [TOKEN_HEADER]: token,
      };
      const options = { ...request.options, headers, mandatory: true, persistent: true };
      const confirmed = new Promise<unknown>((resolve) => {
        try {
          const ok = open.channel.publish(
            request.exchange,
            request.routingKey,
            request.content,
            options,
            (error: unknown) => resolve(error ?? null),
          );
          if (!ok) this.#awaitDrain(open);
        } catch (error) {
          resolve(error);
        }
      });
      const error = await confirmed;
      const returned = open.returned.delete(token);
      if (error === null || error === undefined) {
        return returned ? { kind: 'fail', error: unroutableError(request.destination) } : { kind: 'ok' };
      }
      if (error instanceof RangeError)
        return { kind: 'fail', error: publishError(error, request.destination) };
      if (isChannelGone(error) || open.closed) return this.#channelLoss(open, request, error);
      return { kind: 'fail', error: publishError(error, request.destination) };
    } finally {
      this.#release();
    }
  }

  /** Decide what a message whose channel died becomes: a re-send, or a failure the broker told us about. */
  #channelLoss(open: OpenChannel, request: PublishRequest, error: unknown): Outcome {
    const cause = open.closedBy ?? error;
    const code = amqpReplyCode(cause);
    if (
      code === AmqpReplyCodes.NOT_FOUND &&
      cause instanceof Error &&
      cause.message.includes(`'${request.exchange}'`)
    ) {
      return { kind: 'fail', error: publishError(cause, request.destination) };
    }
    const channelError = code !== undefined && code !== AmqpReplyCodes.CONNECTION_FORCED && code >= 400;
    return { kind: 'resend', cause, channelError };
  }

  #awaitDrain(open: OpenChannel): void {
    open.drained ??= new Promise<void>((resolve) => {
      const done = (): void => {
        open.drained = undefined;
        open.channel.off('drain', done);
        open.channel.off('close', done);
        resolve();
      };
      open.channel.on('drain', done);
      open.channel.on('close', done);
    });
  }

  async #acquire(): Promise<void> {
    while (this.#inFlight >= this.#window && !this.#closed) {
      await new Promise<void>((resolve) => this.#windowWaiters.push(resolve));
    }
    this.#inFlight += 1;
  }

  #release(): void {
    this.#inFlight -= 1;
    this.#windowWaiters.shift()?.();
  }

  #channel(timeoutMs: number): Promise<OpenChannel> {
    if (this.#current !== undefined && !this.#current.closed) return Promise.resolve(this.#current);
    this.#opening ??= this.#open(timeoutMs).finally(() => {
      this.#opening = undefined;
    });
    return this.#opening;
  }

  async #open(timeoutMs: number): Promise<OpenChannel> {
    const channel = await this.#openChannel(timeoutMs);
    const open: OpenChannel = {
      channel,
      returned: new Set(),
      closedBy: undefined,
      closed: false,
      drained: undefined,
    };
    channel.on('return', (message: Message) => {
      const token: unknown = message.properties.headers?.[TOKEN_HEADER];
      if (typeof token === 'string') open.returned.add(token);
    });
    channel.on('error', (error: unknown) => {
      open.closedBy = error;
    });
    channel.on('close', () => {
      open.closed = true;
      if (this.#current === open) this.#current = undefined;
    });
    if (this.#closed) {
      await channel.close().catch(() => undefined);
      throw closedError('publish');
    }
    this.#current = open;
    return open;
  }
}
