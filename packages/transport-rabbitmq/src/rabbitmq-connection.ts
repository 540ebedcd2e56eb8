import { readFile } from 'node:fs/promises';
import { connect } from 'amqplib';
import type { Channel, ChannelModel, ConfirmChannel, SocketOptions } from 'amqplib';
import { asError, closedError, connectionError } from './rabbitmq-error-mapper.js';
import type { RabbitMqTransportOptions } from './rabbitmq-options.js';

/** Connection-level states reported by {@link RabbitMqConnection}. */
export type ConnectionState = 'connecting' | 'ready' | 'reconnecting';

/** Hooks of {@link RabbitMqConnection}. */
export interface RabbitMqConnectionHooks {
  /**
   * Runs after every successful (re)connection, before waiters of {@link RabbitMqConnection.ready}
   * are released: the transport re-declares its topology here. A rejection is reported through
   * `onState` and does not block readiness (consumers and publishers report their own errors).
   */
  readonly onConnected: (model: ChannelModel, generation: number) => Promise<void>;
  /** Connection state changes; `error` is the cause of a lost connection. */
  readonly onState: (state: ConnectionState, error?: Error) => void;
}

interface Waiter {
  readonly resolve: (model: ChannelModel) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/**
 * Reconnecting owner of the single AMQP connection of a transport. The first {@link connect}
 * tries every URL (round robin, exponential backoff) until `connectTimeoutMs`, then rejects with
 * `CONNECTION_FAILED`. Once connected, a lost connection is re-opened forever (backoff capped at
 * `reconnectMaxDelayMs`) until {@link close}; each new connection gets a higher
 * {@link generation}. Channels are never recovered here: their owners (publisher, subscriptions)
 * see them close and open new ones through {@link ready}.
 *
 * Concurrency: all methods may be called concurrently; one reconnect loop runs at a time.
 */
export class RabbitMqConnection {
  readonly #options: RabbitMqTransportOptions;
  readonly #hooks: RabbitMqConnectionHooks;
  readonly #waiters = new Set<Waiter>();
  #model: ChannelModel | undefined;
  #generation = 0;
  #closed = false;
  #connecting: Promise<void> | undefined;
  #urlIndex = 0;

  constructor(options: RabbitMqTransportOptions, hooks: RabbitMqConnectionHooks) {
    this.#options = options;
    this.#hooks = hooks;
  }

  /** Number of connections opened so far (0 before the first). */
  get generation(): number {
    return this.#generation;
  }

  /** The open, ready connection, if any. */
  get current(): ChannelModel | undefined {
    return this.#model;
  }

  /** Open the first connection. Idempotent while it is pending or open. */
  connect(): Promise<void> {
    if (this.#closed) return Promise.reject(closedError('connect'));
    if (this.#model !== undefined) return Promise.resolve();
    this.#connecting ??= this.#open(this.#options.connectTimeoutMs, 'connecting').finally(() => {
      this.#connecting = undefined;
    });
    return this.#connecting;
  }

  /**
   * The open connection, waiting up to `timeoutMs` for a (re)connection. Rejects when the
   * timeout passes or the connection manager is closed.
   */
  ready(timeoutMs: number): Promise<ChannelModel> {
    if (this.#model !== undefined) return Promise.resolve(this.#model);
    if (this.#closed) return Promise.reject(closedError('use the connection'));
    return new Promise<ChannelModel>((resolve, reject) => {
      const waiter: Waiter = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.#waiters.delete(waiter);
          reject(new Error(`no RabbitMQ connection within ${String(timeoutMs)} ms`));
        }, timeoutMs),
      };
      this.#waiters.add(waiter);
    });
  }

  /** A new plain channel on the current connection (waits up to `timeoutMs` for one). */
  async createChannel(timeoutMs: number): Promise<Channel> {
    const model = await this.ready(timeoutMs);
    const channel = await model.createChannel();
    channel.on('error', () => undefined); // 'close' follows; owners react to it
    return channel;
  }

  /** A new confirm channel on the current connection (waits up to `timeoutMs` for one). */
  async createConfirmChannel(timeoutMs: number): Promise<ConfirmChannel> {
    const model = await this.ready(timeoutMs);
    const channel = await model.createConfirmChannel();
    channel.on('error', () => undefined);
    return channel;
  }

  /** Close the connection and stop reconnecting. Idempotent; never rejects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.reject(closedError('use the connection'));
    }
    this.#waiters.clear();
    const model = this.#model;
    this.#model = undefined;
    if (model !== undefined) {
      try {
        await model.close();
      } catch {
        // already closed by the broker or the network: nothing left to release
      }
    }
  }

  async #open(timeoutMs: number, state: ConnectionState, cause?: Error): Promise<void> {
    this.#hooks.onState(state, cause);
    const deadline = Date.now() + timeoutMs;
    let delay = this.#options.reconnectInitialDelayMs;
    let lastError: unknown;
    for (;;) {
      if (this.#closed) throw closedError('connect');
      const url = this.#options.urls[this.#urlIndex % this.#options.urls.length] as string;
      try {
        const model = await this.#connectOnce(url, Math.max(100, Math.min(5_000, deadline - Date.now())));
        await this.#adopt(model);
        return;
      } catch (error) {
        lastError = error;
        this.#urlIndex += 1;
      }
      if (Date.now() + delay > deadline) throw connectionError(lastError, this.#options.urls);
      await sleep(delay);
      delay = Math.min(delay * 2, this.#options.reconnectMaxDelayMs);
    }
  }

  async #connectOnce(url: string, timeoutMs: number): Promise<ChannelModel> {
    const socketOptions = await buildSocketOptions(this.#options);
    return connect(buildUrl(url, this.#options), { ...socketOptions, timeout: timeoutMs });
  }

  async #adopt(model: ChannelModel): Promise<void> {
    let lost = false;
    model.on('error', () => undefined); // 'close' follows with the same error
    model.on('close', (error?: Error) => {
      lost = true;
      this.#lost(model, error);
    });
    if (!this.#closed) {
      this.#generation += 1;
      try {
        await this.#hooks.onConnected(model, this.#generation);
      } catch (error) {
        this.#hooks.onState('ready', asError(error));
      }
    }
    if (this.#closed) {
      await model.close().catch(() => undefined);
      throw closedError('connect');
    }
    if (lost) throw new Error('connection lost while it was being set up');
    this.#model = model;
    this.#hooks.onState('ready');
    for (const waiter of this.#waiters) {
      clearTimeout(waiter.timer);
      waiter.resolve(model);
    }
    this.#waiters.clear();
  }

  #lost(model: ChannelModel, error: Error | undefined): void {
    if (this.#closed || this.#model !== model) return;
    this.#model = undefined;
    const cause = asError(error ?? new Error('connection closed'));
    this.#connecting = this.#reconnectForever(cause).finally(() => {
      this.#connecting = undefined;
    });
  }

  async #reconnectForever(cause: Error): Promise<void> {
    for (;;) {
      if (this.#closed) return;
      try {
        await this.#open(60_000, 'reconnecting', cause);
        return;
      } catch (error) {
        if (this.#closed) return;
        cause = asError(error);
      }
    }
  }
}

/** The URL with heartbeat and overriding credentials applied (the result holds secrets: never log it). */
export function buildUrl(url: string, options: RabbitMqTransportOptions): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat'))
    parsed.searchParams.set('heartbeat', String(options.heartbeatSeconds));
  if (options.username !== undefined) parsed.username = encodeURIComponent(options.username);
  if (options.password !== undefined) parsed.password = encodeURIComponent(options.password);
  return parsed.toString();
}

/** amqplib socket options: client name and TLS material read from the configured files. */
export async function buildSocketOptions(options: RabbitMqTransportOptions): Promise<SocketOptions> {
  const socket: SocketOptions = {
    noDelay: true,
    keepAlive: true,
    clientProperties: { connection_name: options.connectionName },
    rejectUnauthorized: options.tlsRejectUnauthorized,
  };
  if (options.tlsCaFile !== undefined) socket.ca = await readFile(options.tlsCaFile);
  if (options.tlsCertFile !== undefined) socket.cert = await readFile(options.tlsCertFile);
  if (options.tlsKeyFile !== undefined) socket.key = await readFile(options.tlsKeyFile);
  if (options.tlsKeyPassphrase !== undefined) socket.passphrase = options.tlsKeyPassphrase;
  if (options.tlsServername !== undefined) socket.servername = options.tlsServername;
  return socket;
}
