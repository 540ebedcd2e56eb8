import pg from 'pg';
import type { Logger } from '@omnibus/core';
import { backoffDelay } from './backoff.js';

/** Options of {@link NotificationListener}. */
export interface NotificationListenerOptions {
  /** Connection settings for the dedicated LISTEN connection. */
  readonly connection: pg.ClientConfig;
  readonly channel: string;
  /** Only notifications with this payload count (the table's schema). */
  readonly payload: string;
  readonly onNotify: () => void;
  readonly logger: Logger;
  readonly maxBackoffMs: number;
}

/**
 * Keeps one connection LISTENing on the outbox channel and calls `onNotify` for each
 * notification (they arrive at commit of a transaction that wrote outbox rows). When the
 * connection is lost it reconnects with backoff and calls `onNotify` once after reconnecting
 * (rows may have been committed meanwhile). Polling covers the gaps; this only makes it fast.
 */
export class NotificationListener {
  readonly #options: NotificationListenerOptions;
  #client: pg.Client | undefined;
  #closed = false;
  #failures = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: NotificationListenerOptions) {
    this.#options = options;
  }

  /** Start listening (never rejects; failures are retried in the background). */
  start(): void {
    void this.#connect();
  }

  async #connect(): Promise<void> {
    if (this.#closed) return;
    const client = new pg.Client(this.#options.connection);
    this.#client = client;
    client.on('error', (error) => {
      this.#options.logger.warn('outbox relay: LISTEN connection failed', { error });
    });
    client.on('end', () => {
      if (this.#client === client) this.#retry();
    });
    client.on('notification', (message) => {
      if (message.channel === this.#options.channel && message.payload === this.#options.payload)
        this.#options.onNotify();
    });
    try {
      await client.connect();
      await client.query(`LISTEN "${this.#options.channel}"`);
      this.#failures = 0;
      this.#options.onNotify();
    } catch (error) {
      this.#options.logger.warn('outbox relay: cannot LISTEN (polling continues)', { error });
      if (this.#client !== client) return;
      this.#client = undefined;
      await client.end().catch(() => undefined);
      this.#retry();
    }
  }

  #retry(): void {
    if (this.#closed) return;
    this.#client = undefined;
    this.#failures += 1;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(
      () => void this.#connect(),
      backoffDelay(this.#failures, 200, this.#options.maxBackoffMs),
    );
  }

  /** Stop listening and close the connection. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => undefined);
  }
}
