import type { AddressInfo, Server, Socket } from 'node:net';
import type { Connection, EventContext, Message, Receiver, Sender, Session } from 'rhea';
import { BrokerError, entityNotFound, notAllowed, toBrokerError } from './broker-error.js';
import { handleCbsRequest } from './cbs-handler.js';
import type { EntityStore } from './entity-store.js';
import type { ManagementHandler } from './management-handler.js';
import { ReceiveLink } from './receive-link.js';
import {
  acceptedOutcome,
  amqp,
  amqpTypes,
  completeAttach,
  deferAttach,
  echoSettleModes,
  remoteAttachField,
  setAttachProperties,
  setMaxMessageSize,
} from './rhea-compat.js';
import { SendLink } from './send-link.js';

/** Options of the AMQP listener. */
export interface AmqpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly maxMessageSize: number;
  readonly entities: EntityStore;
  readonly management: ManagementHandler;
  readonly log: (event: string) => void;
}

const SESSION_FILTER = 'com.microsoft:session-filter';
const DEFAULT_ACCEPT_SESSION_TIMEOUT_MS = 60_000;
/** .NET ticks at the Unix epoch. */
const EPOCH_TICKS = 621_355_968_000_000_000n;

function ticksLong(ms: number): unknown {
  const buffer = Buffer.alloc(8);
  buffer.writeBigInt64BE(BigInt(Math.round(ms)) * 10_000n + EPOCH_TICKS);
  return amqpTypes.wrap_long(buffer);
}

function addressOf(terminus: unknown): string | undefined {
  const address = (terminus as { address?: unknown } | null | undefined)?.address;
  return typeof address === 'string' ? address : undefined;
}

/**
 * The AMQP 1.0 listener: SASL ANONYMOUS (rhea's server default), `$cbs`, `$management`, send links
 * to queues and topics, and receive links on queues, subscriptions and dead-letter queues,
 * including session receivers.
 */
export class AmqpServer {
  private readonly container = amqp.create_container({
    // Abandon arrives as `modified`; rhea would otherwise also raise `released` for it.
    treat_modified_as_released: false,
    receiver_options: { autoaccept: false, credit_window: 1000 },
    sender_options: { autosettle: true },
  });
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly receiveLinks = new Set<ReceiveLink>();

  constructor(private readonly options: AmqpServerOptions) {
    this.container.on('sender_open', (ctx: EventContext) => this.onSenderOpen(ctx));
    this.container.on('receiver_open', (ctx: EventContext) => this.onReceiverOpen(ctx));
    this.container.on('connection_open', (ctx: EventContext) =>
      options.log(`connection opened from ${String(ctx.connection.container_id)}`),
    );
    this.container.on('connection_close', (ctx: EventContext) => this.connectionGone(ctx.connection));
    this.container.on('disconnected', (ctx: EventContext) => this.connectionGone(ctx.connection));
    this.container.on('session_close', (ctx: EventContext) => {
      if (ctx.session) this.sessionGone(ctx.session);
    });
    this.container.on('connection_error', () => undefined);
    this.container.on('protocol_error', (ctx: EventContext) =>
      options.log(`protocol error: ${String(ctx.error)}`),
    );
    this.container.on('error', (error: unknown) =>
      options.log(`amqp error: ${String((error as Error)?.message ?? error)}`),
    );
  }

  /** Starts listening; resolves with the bound port. */
  listen(): Promise<number> {
    return new Promise((resolve, reject) => {
      const server = this.container.listen({
        host: this.options.host,
        port: this.options.port,
        session_buffer_size: 65_536,
      } as Parameters<typeof this.container.listen>[0]);
      this.server = server;
      server.on('connection', (socket: Socket) => {
        this.sockets.add(socket);
        socket.on('close', () => this.sockets.delete(socket));
      });
      server.once('error', reject);
      server.once('listening', () => {
        server.off('error', reject);
        resolve((server.address() as AddressInfo).port);
      });
    });
  }

  /** Closes every connection and stops listening. */
  async close(): Promise<void> {
    for (const link of [...this.receiveLinks]) link.detached();
    this.receiveLinks.clear();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /**
   * Cuts every client connection abruptly, as a network failure would: each socket is destroyed
   * (no AMQP close or detach frames) while the listener keeps accepting new connections. The links of
   * those connections are detached first, with the same effect as a client vanishing: message
   * locks they hold stay until they expire (or are settled by lock token over `$management`),
   * session locks are released at once. Returns the number of connections cut.
   */
  dropConnections(): number {
    for (const link of [...this.receiveLinks]) link.detached();
    this.receiveLinks.clear();
    const sockets = [...this.sockets];
    // Destroying with an error also tells rhea the connection is gone (it stops its timers and
    // raises 'disconnected'): rhea only listens for 'end' and 'error' on server sockets.
    for (const socket of sockets) socket.destroy(new Error('connection dropped by the emulator admin API'));
    this.sockets.clear();
    this.options.log(`dropped ${sockets.length} client connection(s)`);
    return sockets.length;
  }

  private connectionGone(connection: Connection): void {
    for (const link of [...this.receiveLinks]) {
      if (link.sender.connection === connection) {
        link.detached();
        this.receiveLinks.delete(link);
      }
    }
  }

  private sessionGone(session: Session): void {
    for (const link of [...this.receiveLinks]) {
      if (link.sender.session === session) {
        link.detached();
        this.receiveLinks.delete(link);
      }
    }
  }

  /** Rejects an attach: reply with a null terminus, then detach with the error. */
  private refuse(link: Sender | Receiver, error: BrokerError): void {
    this.options.log(
      `attach refused for ${link.is_sender() ? addressOf(link.source) : addressOf(link.target)}: ${error.message}`,
    );
    link.close({ condition: error.condition, description: error.message });
  }

  /** The client opened a receive link: CBS or management replies, or messages from an entity. */
  private onSenderOpen(ctx: EventContext): void {
    const sender = ctx.sender;
    if (!sender) return;
    echoSettleModes(sender);
    const address = addressOf(sender.source) ?? '';
    if (address === '$cbs' || /\/\$management$/i.test(address) || address === '$management') {
      if (address !== '$cbs' && !this.options.management.exists(address)) {
        this.refuse(sender, entityNotFound(address.replace(/\/\$management$/i, '')));
        return;
      }
      sender.set_source({ address });
      sender.set_target({ address: addressOf(sender.target) ?? '' });
      return;
    }
    const resolved = this.options.entities.resolveSource(address);
    if (!resolved) {
      this.refuse(sender, entityNotFound(address));
      return;
    }
    const { store } = resolved;
    const filter = (sender.source as { filter?: Record<string, unknown> } | null)?.filter ?? undefined;
    const wantsSession = filter !== undefined && filter !== null && SESSION_FILTER in filter;
    if (store.sessionful && !wantsSession) {
      this.refuse(
        sender,
        notAllowed(
          `It is not possible for an entity that requires sessions to create a non-sessionful message receiver. Entity: ${store.path}`,
        ),
      );
      return;
    }
    if (!store.sessionful && wantsSession) {
      this.refuse(
        sender,
        notAllowed(
          `It is not possible for an entity that does not require sessions to create a sessionful message receiver. Entity: ${store.path}`,
        ),
      );
      return;
    }
    const link = new ReceiveLink(sender, store, this.options.log);
    this.receiveLinks.add(link);
    sender.on('sender_close', () => this.receiveLinks.delete(link));
    if (!wantsSession) {
      sender.set_source({ address });
      sender.set_target({ address: addressOf(sender.target) ?? '' });
      link.activate();
      this.options.log(
        `receiver attached to ${store.path} (${link.peekLock ? 'peekLock' : 'receiveAndDelete'})`,
      );
      return;
    }
    const requested = filter?.[SESSION_FILTER];
    const requestedId = typeof requested === 'string' ? requested : undefined;
    const timeoutProp = (remoteAttachField(sender, 'properties') as Record<string, unknown> | undefined)?.[
      'com.microsoft:timeout'
    ];
    const timeoutMs =
      typeof timeoutProp === 'number' && timeoutProp > 0 ? timeoutProp : DEFAULT_ACCEPT_SESSION_TIMEOUT_MS;
    deferAttach(sender);
    let attachPending = true;
    // A client that gives up while we wait still needs our attach before rhea's detach reply.
    sender.once('sender_close', () => {
      if (attachPending) completeAttach(sender);
      attachPending = false;
    });
    store.acceptSession(requestedId, link.id, timeoutMs).then(
      (sessionId) => {
        attachPending = false;
        if (sender.is_closed() || !sender.is_remote_open()) {
          store.sessions?.unlock(sessionId, link.id);
          return;
        }
        link.sessionId = sessionId;
        sender.set_source({ address, filter: { [SESSION_FILTER]: sessionId } });
        sender.set_target({ address: addressOf(sender.target) ?? '' });
        setAttachProperties(sender, {
          'com.microsoft:locked-until-utc': ticksLong(store.sessions?.lockedUntil(sessionId) ?? Date.now()),
        });
        completeAttach(sender);
        link.activate();
        this.options.log(`session receiver attached to ${store.path} session='${sessionId}'`);
      },
      (error: unknown) => {
        attachPending = false;
        link.detached();
        this.receiveLinks.delete(link);
        if (!sender.is_remote_open()) return;
        completeAttach(sender);
        this.refuse(sender, toBrokerError(error));
      },
    );
  }

  /** The client opened a send link: CBS or management requests, or messages to an entity. */
  private onReceiverOpen(ctx: EventContext): void {
    const receiver = ctx.receiver;
    if (!receiver) return;
    echoSettleModes(receiver);
    setMaxMessageSize(receiver, this.options.maxMessageSize);
    const address = addressOf(receiver.target) ?? '';
    if (address === '$cbs') {
      receiver.set_target({ address });
      receiver.on('message', (c: EventContext) => this.answer(c, handleCbsRequest(c.message as Message)));
      return;
    }
    if (/\/\$management$/i.test(address)) {
      if (!this.options.management.exists(address)) {
        this.refuse(receiver, entityNotFound(address.replace(/\/\$management$/i, '')));
        return;
      }
      receiver.set_target({ address });
      receiver.on('message', (c: EventContext) =>
        this.answer(c, this.options.management.handle(address, c.message as Message)),
      );
      return;
    }
    if (!this.options.entities.resolveSendTarget(address)) {
      const parsed = this.options.entities.resolveSource(address);
      this.refuse(receiver, parsed ? notAllowed(`Cannot send to '${address}'.`) : entityNotFound(address));
      return;
    }
    receiver.set_target({ address });
    new SendLink(receiver, address, this.options.entities, this.options.maxMessageSize, this.options.log);
    this.options.log(`sender attached to ${address}`);
  }

  /** Sends a response on the link the request named in `reply_to`, then accepts the request. */
  private answer(ctx: EventContext, response: Message): void {
    const request = ctx.message as Message;
    const replyTo = request.reply_to;
    const replyLink =
      replyTo === undefined
        ? undefined
        : ctx.connection.find_sender((s: Sender) => s.name === replyTo || addressOf(s.target) === replyTo);
    if (ctx.delivery) ctx.delivery.update(true, acceptedOutcome());
    if (!replyLink) {
      this.options.log(
        `no reply link '${String(replyTo)}' for a request on ${addressOf(ctx.receiver?.target) ?? '?'}`,
      );
      return;
    }
    replyLink.send(response);
  }
}
