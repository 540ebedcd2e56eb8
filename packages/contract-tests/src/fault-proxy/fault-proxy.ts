import { connect, createServer, type Server, type Socket } from 'node:net';

/** Where a {@link FaultProxy} listens and where it forwards to. */
export interface FaultProxyOptions {
  /** The broker's address the proxy dials for every accepted client connection. */
  readonly target: { readonly host: string; readonly port: number };
  /** Listen host (default `127.0.0.1`). */
  readonly host?: string;
  /** Listen port (default 0: any free port; read it from {@link FaultProxy.port}). */
  readonly port?: number;
}

/** Counters of a {@link FaultProxy}, for notes and assertions. */
export interface FaultProxyStats {
  /** Client connections accepted so far. */
  readonly accepted: number;
  /** Client connections open now. */
  readonly open: number;
  /** Connections ended by {@link FaultProxy.reset}. */
  readonly reset: number;
  /** Bytes forwarded client → broker and broker → client. */
  readonly bytesUp: number;
  readonly bytesDown: number;
}

/** One proxied connection: the client's socket, the broker's socket, and what is held back. */
interface Link {
  readonly client: Socket;
  upstream: Socket | undefined;
  /** Chunks accepted from the client before the upstream connected or while blackholed. */
  readonly heldUp: Buffer[];
  readonly heldDown: Buffer[];
  /** Time the last chunk of each direction is due (keeps order when latency changes). */
  dueUp: number;
  dueDown: number;
  closed: boolean;
}

/**
 * A TCP proxy between a client and a broker that injects network faults on command: added
 * latency (every chunk forwarded `ms` later, order kept), reset (every open connection torn
 * down with a TCP RST on both sides, as a broker or network dropping connections), and
 * blackhole (a partition: nothing is forwarded either way and new connections are accepted but
 * not dialled; bytes are held, not lost, and flow again on {@link heal}, as TCP would deliver
 * them after the partition). `node:net` only; one instance per broker address.
 *
 * Clients must dial the proxy's port for every connection they open: for brokers that hand out
 * addresses (Kafka metadata), the broker must advertise the proxy's port.
 */
export class FaultProxy {
  readonly #options: FaultProxyOptions;
  readonly #server: Server;
  readonly #links = new Set<Link>();
  #latencyMs = 0;
  #blackholed = false;
  #accepted = 0;
  #reset = 0;
  #bytesUp = 0;
  #bytesDown = 0;

  private constructor(options: FaultProxyOptions) {
    this.#options = options;
    this.#server = createServer((client) => this.#accept(client));
  }

  /** Start a proxy listening on `options.port` (0 = any free port); resolves once it listens. */
  static async start(options: FaultProxyOptions): Promise<FaultProxy> {
    const proxy = new FaultProxy(options);
    await new Promise<void>((resolve, reject) => {
      proxy.#server.once('error', reject);
      proxy.#server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
        proxy.#server.off('error', reject);
        resolve();
      });
    });
    return proxy;
  }

  /** The port clients dial. */
  get port(): number {
    const address = this.#server.address();
    if (address === null || typeof address === 'string') throw new Error('the fault proxy is not listening');
    return address.port;
  }

  /** `host:port` clients dial. */
  get address(): string {
    return `${this.#options.host ?? '127.0.0.1'}:${String(this.port)}`;
  }

  /** Counters since start. */
  stats(): FaultProxyStats {
    return {
      accepted: this.#accepted,
      open: this.#links.size,
      reset: this.#reset,
      bytesUp: this.#bytesUp,
      bytesDown: this.#bytesDown,
    };
  }

  /** Forward every later chunk `ms` after it arrived (0 = at once). Order is kept either way. */
  setLatency(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`latency must be a finite ms ≥ 0, got ${String(ms)}`);
    this.#latencyMs = ms;
  }

  /** Stop forwarding in both directions and hold new connections undialled until {@link heal}. */
  blackhole(): void {
    this.#blackholed = true;
  }

  /** End a blackhole and remove the latency: held bytes and held connections proceed. */
  heal(): void {
    this.#latencyMs = 0;
    if (!this.#blackholed) return;
    this.#blackholed = false;
    for (const link of this.#links) {
      if (link.upstream === undefined) this.#dial(link);
      else this.#flush(link);
    }
  }

  /**
   * Tear down every open connection with a TCP RST towards the client and the broker (what a
   * broker killing its client connections looks like). New connections are accepted as usual.
   * Resolves with the number of connections reset.
   */
  reset(): number {
    const links = [...this.#links];
    for (const link of links) {
      this.#reset += 1;
      this.#end(link, true);
    }
    return links.length;
  }

  /** Reset every connection and stop listening. Idempotent. */
  async close(): Promise<void> {
    this.reset();
    if (!this.#server.listening) return;
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: Socket): void {
    this.#accepted += 1;
    client.setNoDelay(true);
    const link: Link = {
      client,
      upstream: undefined,
      heldUp: [],
      heldDown: [],
      dueUp: 0,
      dueDown: 0,
      closed: false,
    };
    this.#links.add(link);
    client.on('data', (chunk: Buffer) => this.#forward(link, 'up', chunk));
    client.on('error', () => this.#end(link, false));
    client.on('close', () => this.#end(link, false));
    if (!this.#blackholed) this.#dial(link);
  }

  #dial(link: Link): void {
    if (link.closed || link.upstream !== undefined) return;
    const upstream = connect({ host: this.#options.target.host, port: this.#options.target.port });
    link.upstream = upstream;
    upstream.setNoDelay(true);
    upstream.on('connect', () => this.#flush(link));
    upstream.on('data', (chunk: Buffer) => this.#forward(link, 'down', chunk));
    // The broker refused or dropped the connection: the client sees its connection end.
    upstream.on('error', () => this.#end(link, false));
    upstream.on('close', () => this.#end(link, false));
  }

  #forward(link: Link, direction: 'up' | 'down', chunk: Buffer): void {
    if (link.closed) return;
    const held = direction === 'up' ? link.heldUp : link.heldDown;
    const target = direction === 'up' ? link.upstream : link.client;
    if (this.#blackholed || target === undefined || target.connecting || held.length > 0) {
      held.push(chunk);
      return;
    }
    this.#send(link, direction, chunk);
  }

  /** Send what was held, in order, unless still blackholed or not yet connected. */
  #flush(link: Link): void {
    if (link.closed || this.#blackholed || link.upstream === undefined || link.upstream.connecting) return;
    for (const chunk of link.heldUp.splice(0)) this.#send(link, 'up', chunk);
    for (const chunk of link.heldDown.splice(0)) this.#send(link, 'down', chunk);
  }

  #send(link: Link, direction: 'up' | 'down', chunk: Buffer): void {
    const write = (): void => {
      if (link.closed) return;
      const target = direction === 'up' ? link.upstream : link.client;
      const source = direction === 'up' ? link.client : link.upstream;
      if (target === undefined) return;
      if (direction === 'up') this.#bytesUp += chunk.byteLength;
      else this.#bytesDown += chunk.byteLength;
      if (!target.write(chunk) && source !== undefined) {
        source.pause();
        target.once('drain', () => source.resume());
      }
    };
    if (this.#latencyMs === 0) {
      const pending = direction === 'up' ? link.dueUp : link.dueDown;
      // Chunks scheduled under an earlier latency go first.
      if (pending <= Date.now()) {
        write();
        return;
      }
    }
    const due = Math.max(Date.now() + this.#latencyMs, direction === 'up' ? link.dueUp : link.dueDown);
    if (direction === 'up') link.dueUp = due;
    else link.dueDown = due;
    setTimeout(write, due - Date.now());
  }

  #end(link: Link, abort: boolean): void {
    if (link.closed) return;
    link.closed = true;
    this.#links.delete(link);
    link.heldUp.length = 0;
    link.heldDown.length = 0;
    for (const socket of [link.client, link.upstream]) {
      if (socket === undefined || socket.destroyed) continue;
      if (!abort) socket.destroy();
      else {
        try {
          socket.resetAndDestroy();
        } catch {
          // Not connected yet: there is nothing to reset, only to drop.
          socket.destroy();
        }
      }
    }
  }
}
