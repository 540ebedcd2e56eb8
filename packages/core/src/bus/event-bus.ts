import { randomUUID } from 'node:crypto';
import type { Codec } from '../codec/codec.js';
import { JsonCodec } from '../codec/json-codec.js';
import { ErrorCodes } from '../errors/error-codes.js';
import { isOmnibusError, OmnibusError } from '../errors/omnibus-error.js';
import { destinationOf, type EventDefinition, type RequestDefinition } from '../events/event-definition.js';
import type { EventRegistry } from '../events/event-registry.js';
import { currentHandlerContext } from '../handler/handler-context-storage.js';
import { ConstructorResolver } from '../handler/handler-resolver.js';
import { InstrumentationEmitter } from '../instrumentation/instrumentation-emitter.js';
import type {
  InstrumentationEventName,
  InstrumentationListener,
} from '../instrumentation/instrumentation-events.js';
import { BacklogSampler, type BacklogOptions, type SubscriptionBacklog } from '../health/backlog-sampler.js';
import { computeHealth, type BusHealth } from '../health/bus-health.js';
import type { DeliveryInterceptor } from '../hooks/delivery-interceptor.js';
import { hooksActive } from '../hooks/event-bus-plugin.js';
import {
  runPublishMiddleware,
  type PublishContext,
  type PublishMiddleware,
} from '../hooks/publish-middleware.js';
import { noopLogger, type Logger } from '../logging/logger.js';
import { toLogger } from '../logging/pino-logger.js';
import type { MessageEnvelope } from '../message/envelope.js';
import { buildTopology } from '../router/build-topology.js';
import { EventRouter } from '../router/event-router.js';
import type { OutgoingMessage } from '../transport/outgoing-message.js';
import { transportFor } from '../transport/routed/routed-transport.js';
import type { Transport } from '../transport/transport.js';
import { SETTLED_SYNC } from '../transport/settled-sync.js';
import { buildOutgoingMessage, type OutgoingMessageInput } from './build-outgoing-message.js';
import {
  checkBatchArgument,
  checkEventArgument,
  checkPayloadArgument,
  checkPublishOptions,
} from './check-publish-arguments.js';
import type { BusStatus } from './bus-status.js';
import type { EventBusConfig } from './event-bus-config.js';
import { prepareBus } from './prepare-bus.js';
import {
  DEFAULT_REQUEST_TIMEOUT_MS,
  type BatchPublishOptions,
  type PublishOptions,
  type RequestOptions,
} from './publish-options.js';
import { flowHandlerClass } from '../flows/forwarding-flow.js';
import { ReplyChannel, replyEnvelope, type ReplyBody, type RequestStats } from './reply-channel.js';
import { installSignalHandlers, type StopOnSignalsOptions } from './stop-on-signals.js';

/** Default drain budget of {@link EventBus.stop}: 10 s. */
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

/** Placeholder options of the reused build input (replaced before every build). */
const NO_OPTIONS: PublishOptions = Object.freeze({});

/** Options of {@link EventBus.stop}. */
export interface StopOptions {
  /** How long to wait for in-flight handlers before closing anyway. Default {@link DEFAULT_DRAIN_TIMEOUT_MS}. */
  readonly drainTimeoutMs?: number;
}

interface Running {
  readonly transport: Transport;
  readonly events: EventRegistry;
  readonly router: EventRouter;
  readonly provisioned: Map<string, Promise<void>>;
  /** Destinations whose provisioning completed (publish skips awaiting them). */
  readonly ready: Set<string>;
  readonly disposeStatus: () => void;
  /** This instance's reply destination, opened by the first request. */
  replies: ReplyChannel | undefined;
}

/**
 * The application-facing bus: publishes events and runs the handlers registered in its
 * configuration. A value class, so DI containers can inject it into handlers (bind the
 * instance after `createEventBus`).
 *
 * Concurrency: `publish`/`publishBatch` may be called concurrently, from anywhere (including
 * handlers, where correlation, causation and trace context are stamped automatically).
 * `start` and `stop` are idempotent; concurrent calls share one run.
 */
export class EventBus {
  readonly #config: EventBusConfig;
  readonly #emitter: InstrumentationEmitter;
  readonly #logger: Logger;
  readonly #codec: Codec;
  #status: BusStatus = 'idle';
  #running: Running | undefined;
  #publishOpen = false;
  #starting: Promise<void> | undefined;
  #stopping: Promise<void> | undefined;
  readonly #publishMiddleware: readonly PublishMiddleware[];
  readonly #interceptors: readonly DeliveryInterceptor[];
  readonly #publishActive: (() => boolean) | undefined;
  readonly #interceptorsActive: (() => boolean) | undefined;
  readonly #detach: (() => void)[] = [];
  #transportSince = Date.now();
  #startFailed = false;
  #lastVerdict = '';
  #backlog: { readonly transport: Transport; readonly sampler: BacklogSampler } | undefined;

  /**
   * Prefer {@link createEventBus}. `config` is deliberately required, so a DI container asked
   * for an unbound `EventBus` fails loudly instead of silently constructing a second, unstarted bus.
   */
  constructor(config: EventBusConfig) {
    this.#config = config;
    this.#logger = toLogger(config.logger ?? noopLogger);
    this.#emitter = new InstrumentationEmitter(this.#logger);
    this.#codec = config.codec ?? new JsonCodec();
    const plugins = config.plugins ?? [];
    this.#publishMiddleware = [
      ...(config.publishMiddleware ?? []),
      ...plugins.flatMap((p) => (p.publish === undefined ? [] : [p.publish])),
    ];
    this.#interceptors = [
      ...(config.deliveryInterceptors ?? []),
      ...plugins.flatMap((p) => (p.deliver === undefined ? [] : [p.deliver])),
    ];
    this.#publishActive = hooksActive(
      config.publishMiddleware?.length ?? 0,
      plugins,
      (p) => p.publish !== undefined,
    );
    this.#interceptorsActive = hooksActive(
      config.deliveryInterceptors?.length ?? 0,
      plugins,
      (p) => p.deliver !== undefined,
    );
    const host = {
      on: this.on.bind(this),
      logger: this.#logger,
      backlog: this.backlog.bind(this),
    };
    for (const plugin of plugins) {
      const dispose = plugin.attach?.(host);
      if (typeof dispose === 'function') this.#detach.push(dispose);
    }
  }

  /** Current lifecycle state. */
  get status(): BusStatus {
    return this.#status;
  }

  /** The transport in use once started (escape hatch: `bus.transport?.raw()`). */
  get transport(): Transport | undefined {
    return this.#running?.transport;
  }

  /**
   * Validate the whole configuration (one `CONFIGURATION_INVALID` error listing every
   * problem), connect, provision the topology of all handlers and known events, then
   * subscribe every handler. Idempotent. On failure the transport is closed and the bus ends
   * `stopped`.
   */
  start(): Promise<void> {
    if (this.#stopping !== undefined)
      return Promise.reject(new OmnibusError(ErrorCodes.BUS_CLOSED, 'the bus was stopped; create a new one'));
    this.#starting ??= this.#start();
    return this.#starting;
  }

  async #start(): Promise<void> {
    this.#status = 'starting';
    let transport: Transport | undefined;
    // A pending start keeps the process alive: a client that waits on an unref'd socket or timer
    // would otherwise let Node exit silently (code 13 under top-level await) before start settles.
    const keepAlive = setInterval(() => undefined, 60_000);
    try {
      const flows = this.#config.flows ?? [];
      const prepared = await prepareBus(
        flows.length === 0
          ? this.#config
          : {
              ...this.#config,
              handlers: [
                ...(this.#config.handlers ?? []),
                ...flows.map((flow) =>
                  flowHandlerClass(flow.spec, (event, payload, options) =>
                    this.publish(event, payload, options),
                  ),
                ),
              ],
            },
      );
      transport = prepared.transport;
      this.#transportSince = Date.now();
      const disposeStatus = transport.onStatusChange((status, error) => {
        this.#transportSince = Date.now();
        this.#emitter.emit('transport.status', {
          transport: prepared.transport.name,
          status,
          ...(error === undefined ? {} : { error }),
        });
        this.#checkHealth();
      });
      await transport.connect();
      const topology = buildTopology(prepared.events.all(), prepared.registrations);
      await transport.provision(topology);
      const provisioned = new Map(topology.destinations.map((d) => [d.name, Promise.resolve()]));
      const router = new EventRouter({
        transport,
        registrations: prepared.registrations,
        events: prepared.events,
        codecs: prepared.codecs,
        resolver: this.#config.resolver ?? new ConstructorResolver(),
        middleware: this.#config.middleware ?? [],
        emitter: this.#emitter,
        logger: this.#logger,
        interceptors: this.#interceptors,
        ...(this.#interceptorsActive === undefined ? {} : { interceptorsActive: this.#interceptorsActive }),
        replier: (request, body) => this.#reply(request, body),
      });
      const ready = new Set(topology.destinations.map((d) => d.name));
      this.#running = {
        transport,
        events: prepared.events,
        router,
        provisioned,
        ready,
        disposeStatus,
        replies: undefined,
      };
      this.#publishOpen = true;
      await router.start();
      this.#status = 'started';
      this.#checkHealth();
      this.#logger.info('bus started', {
        transport: transport.name,
        handlers: prepared.registrations.length,
        destinations: topology.destinations.length,
      });
    } catch (error) {
      this.#publishOpen = false;
      this.#status = 'stopped';
      this.#startFailed = true;
      this.#checkHealth();
      this.#running?.disposeStatus();
      if (transport !== undefined) await transport.close(0).catch(() => undefined);
      throw error;
    } finally {
      clearInterval(keepAlive);
    }
  }

  /**
   * Stop intake, wait up to `drainTimeoutMs` for in-flight handlers (aborting their signals at
   * the deadline), then close the transport. Unsettled messages are redelivered by the broker
   * later. Never rejects; idempotent (later calls share the first). Resolves within about
   * `drainTimeoutMs` + 3 s even if an adapter hangs. Stopping an idle bus just marks it stopped.
   */
  stop(options: StopOptions = {}): Promise<void> {
    if (this.#stopping === undefined) {
      if (this.#status === 'started') this.#status = 'stopping';
      this.#stopping = this.#stop(options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS);
    }
    return this.#stopping;
  }

  async #stop(drainTimeoutMs: number): Promise<void> {
    if (this.#starting !== undefined) await this.#starting.catch(() => undefined);
    const running = this.#running;
    if (running === undefined || this.#status === 'stopped') {
      this.#status = 'stopped';
      return;
    }
    this.#status = 'stopping';
    const deadline = Date.now() + drainTimeoutMs;
    await bounded(running.router.stop(drainTimeoutMs), drainTimeoutMs + 1000, () =>
      this.#logger.warn('subscriptions did not close in time'),
    );
    this.#publishOpen = false;
    if (running.replies !== undefined)
      await bounded(running.replies.close(Math.max(0, deadline - Date.now())), 3000, () =>
        this.#logger.warn('the reply destination did not close in time'),
      );
    const remaining = Math.max(0, deadline - Date.now());
    await bounded(
      running.transport
        .close(remaining)
        .catch((error: unknown) => this.#logger.warn('closing the transport failed', { error })),
      remaining + 2000,
      () => this.#logger.warn('the transport did not close in time'),
    );
    running.disposeStatus();
    this.#status = 'stopped';
    this.#checkHealth();
    for (const detach of this.#detach.splice(0)) {
      try {
        detach();
      } catch (error) {
        this.#logger.warn('detaching a plugin failed', { error });
      }
    }
    this.#logger.info('bus stopped');
  }

  /**
   * Publish one event. Resolves with the envelope once the transport durably accepted it.
   * Rejects (nothing published) with `ARGUMENT_INVALID` (not an event definition, options of the
   * wrong type), `VALIDATION_FAILED`, `ENCODE_FAILED`, `PAYLOAD_TOO_LARGE`,
   * `DELAY_OUT_OF_RANGE`, `BUS_NOT_STARTED` or `BUS_CLOSED`; with `NO_SUBSCRIBERS` (retriable)
   * when no consumer group subscribes to the destination yet (ADR 0005); with the transport's
   * typed error (e.g. `PUBLISH_FAILED`) when the broker refused it. An event not known at start
   * is registered and its destination provisioned on first publish.
   */
  publish<T>(event: EventDefinition<T>, payload: T, options: PublishOptions = {}): Promise<MessageEnvelope> {
    try {
      checkEventArgument('publish', event);
      checkPayloadArgument('publish', event.name, payload);
      checkPublishOptions('publish', options);
      const fast = this.#publishFast(event, payload, options, undefined);
      if (fast !== undefined) return fast as Promise<MessageEnvelope>;
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.#publish(event, [{ payload, options }]).then(first);
  }

  /**
   * Publish several payloads of one event in one transport call. All are validated and
   * encoded first (nothing is published if any is invalid). Atomic only when the transport
   * declares `atomicBatchPublish`; otherwise a rejection may follow a partial publish. The
   * no-subscriber rule (`NO_SUBSCRIBERS`) is checked once for the whole batch, before anything
   * is sent. Resolves with the envelopes in input order.
   */
  publishBatch<T>(
    event: EventDefinition<T>,
    payloads: readonly T[],
    options?: BatchPublishOptions<T>,
  ): Promise<MessageEnvelope[]> {
    let items: { payload: unknown; options: PublishOptions }[];
    try {
      checkEventArgument('publishBatch', event);
      checkBatchArgument(payloads);
      if (options !== undefined && typeof options !== 'function') checkPublishOptions('publishBatch', options);
      items = payloads.map((payload, index) => {
        checkPayloadArgument('publishBatch', event.name, payload);
        const own = typeof options === 'function' ? options(payload, index) : (options ?? NO_OPTIONS);
        if (typeof options === 'function') checkPublishOptions('publishBatch', own);
        return { payload, options: own };
      });
      const fast = this.#publishFast(event, undefined, NO_OPTIONS, items);
      if (fast !== undefined) return fast as Promise<MessageEnvelope[]>;
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    return this.#publish(event, items);
  }

  /**
   * Send a request and resolve with the reply its one handler returns. The request is published
   * like a command, with this bus instance's reply destination (created and subscribed on the
   * first request, removed at stop where the transport can delete topology) and its message id
   * as the correlation key. Works from inside a handler (correlation and causation are stamped).
   *
   * Rejects with the same errors as {@link publish} when the request cannot be published (for
   * example `ARGUMENT_INVALID` for a definition not made by `defineRequest`); with
   * `REQUEST_TIMEOUT` when no reply came within `timeoutMs` (default 30 s; a late reply is
   * discarded and counted in {@link requestStats}); with `REQUEST_FAILED` when the handler failed
   * for good (unrecoverable error or last attempt), carrying its code and message; with
   * `BUS_CLOSED` when the bus stops first.
   */
  async request<T, R>(
    definition: RequestDefinition<T, R>,
    payload: T,
    options: RequestOptions = {},
  ): Promise<R> {
    checkEventArgument('request', definition);
    checkPayloadArgument('request', definition.name, payload);
    checkPublishOptions('request', options);
    const kind = (definition as EventDefinition<T>).kind;
    if (kind !== 'request')
      throw new OmnibusError(
        ErrorCodes.ARGUMENT_INVALID,
        `request() needs a definition made by defineRequest(); "${definition.name}" is ${kind === undefined ? 'an event' : `a ${kind}`}`,
      );
    const { timeoutMs = DEFAULT_REQUEST_TIMEOUT_MS, ...publishOptions } = options;
    if (typeof timeoutMs !== 'number' || !Number.isFinite(timeoutMs) || timeoutMs <= 0)
      throw new OmnibusError(
        ErrorCodes.ARGUMENT_INVALID,
        `request timeoutMs must be a number > 0, got ${String(timeoutMs)}`,
      );
    const running = this.#requireOpen();
    running.replies ??= new ReplyChannel(running.transport, this.#codec, this.#logger);
    const replies = running.replies;
    await replies.open();
    const id = publishOptions.id ?? randomUUID();
    const reply = replies.await(id, definition.name, timeoutMs);
    try {
      await this.#publish(definition, [{ payload, options: { ...publishOptions, id } }], replies.destination);
    } catch (error) {
      replies.cancel(id);
      reply.catch(() => undefined);
      throw error;
    }
    return (await reply) as R;
  }

  /** Requests waiting for a reply now, and late replies discarded since start. Cheap. */
  requestStats(): RequestStats {
    return this.#running?.replies?.stats() ?? { pending: 0, lateReplies: 0 };
  }

  /** Send a request's reply to its reply destination (provisioned once per destination). */
  async #reply(request: MessageEnvelope, body: ReplyBody): Promise<void> {
    const running = this.#running;
    const replyTo = request.replyTo;
    if (running === undefined || replyTo === undefined) return;
    const provisioning = this.#provisionOnce(running, replyTo);
    if (provisioning !== undefined) await provisioning;
    await running.transport.publish(replyTo, [{ envelope: replyEnvelope(request, body, this.#codec) }]);
  }

  /**
   * The common case of `publish`/`publishBatch` without an `async` frame: the bus is open, the
   * event is known and its destination provisioned, the event has no schema and no publish
   * middleware is active. Builds every message synchronously and hands them to the transport;
   * `single` resolves with the first envelope instead of the list. The transport's promise is
   * chained once, or not at all when the transport finished synchronously ({@link SETTLED_SYNC}).
   * `undefined` when the general path must run. Throws what building throws (callers turn it
   * into a rejection); nothing is sent unless every message was built.
   */
  #publishFast(
    event: EventDefinition<unknown>,
    payload: unknown,
    options: PublishOptions,
    items: readonly { payload: unknown; options: PublishOptions }[] | undefined,
  ): Promise<MessageEnvelope | MessageEnvelope[]> | undefined {
    const running = this.#running;
    if (
      !this.#publishOpen ||
      running === undefined ||
      event.schema !== undefined ||
      (this.#publishMiddleware.length > 0 && this.#publishActive?.() !== false) ||
      items?.length === 0
    )
      return undefined;
    if (this.#ensureKnown(running, event) !== undefined) return undefined;
    const destination = destinationOf(event);
    const target = transportFor(running.transport, destination);
    const input: { -readonly [K in keyof OutgoingMessageInput]: OutgoingMessageInput[K] } = {
      event,
      payload,
      options,
      context: currentHandlerContext(),
      codec: this.#codec,
      transportName: target.name,
      capabilities: target.capabilities,
    };
    const messages: OutgoingMessage[] = [];
    if (items === undefined) messages.push(buildOutgoingMessage(input) as OutgoingMessage);
    else
      for (const item of items) {
        input.payload = item.payload;
        input.options = item.options;
        messages.push(buildOutgoingMessage(input) as OutgoingMessage);
      }
    let sent: Promise<void>;
    try {
      sent = running.transport.publish(destination, messages);
    } catch (error) {
      sent = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    if (sent === SETTLED_SYNC) {
      this.#emitPublished(destination, messages);
      return Promise.resolve(items === undefined ? (messages[0] as OutgoingMessage).envelope : envelopesOf(messages));
    }
    return sent.then(
      () => {
        this.#emitPublished(destination, messages);
        return items === undefined ? (messages[0] as OutgoingMessage).envelope : envelopesOf(messages);
      },
      (error: unknown) => {
        throw publishFailed(error, event, destination);
      },
    );
  }

  async #publish(
    event: EventDefinition<unknown>,
    items: readonly { payload: unknown; options: PublishOptions }[],
    replyTo?: string,
  ): Promise<MessageEnvelope[]> {
    const running = this.#requireOpen();
    const known = this.#ensureKnown(running, event);
    if (known !== undefined) await known;
    const context = currentHandlerContext();
    const destination = destinationOf(event);
    const target = transportFor(running.transport, destination);
    const messages: OutgoingMessage[] = [];
    // One input object for the whole call: each build finishes (or is awaited) before the next
    // item overwrites payload and options.
    const input: { -readonly [K in keyof OutgoingMessageInput]: OutgoingMessageInput[K] } = {
      event,
      payload: undefined,
      options: NO_OPTIONS,
      context,
      codec: this.#codec,
      transportName: target.name,
      capabilities: target.capabilities,
    };
    if (replyTo !== undefined) input.replyTo = replyTo;
    for (const item of items) {
      input.payload = item.payload;
      input.options = item.options;
      const built = buildOutgoingMessage(input);
      messages.push(built instanceof Promise ? await built : built);
    }
    if (messages.length === 0) return [];
    this.#requireOpen();
    if (this.#publishMiddleware.length === 0 || this.#publishActive?.() === false) {
      await send(running.transport, event, destination, messages);
      this.#emitPublished(destination, messages);
      return messages.map((m) => m.envelope);
    }
    const publishContext: PublishContext = {
      event,
      destination,
      transport: target.name,
      handlerContext: context,
      messages,
    };
    await runPublishMiddleware(this.#publishMiddleware, publishContext, async (c) => {
      await send(running.transport, event, destination, c.messages);
      this.#emitPublished(destination, c.messages);
    });
    return publishContext.messages.map((m) => m.envelope);
  }

  #emitPublished(destination: string, messages: readonly OutgoingMessage[]): void {
    if (this.#emitter.listenerCount('message.published') === 0) return;
    for (const message of messages) {
      this.#emitter.emit('message.published', {
        envelope: message.envelope,
        destination,
        ...(message.delayMs === undefined ? {} : { delayMs: message.delayMs }),
      });
    }
  }

  /**
   * Health snapshot: per subscription (state, connected, last delivery and settlement, in
   * flight, consecutive failures) and the readiness/liveness verdict with its reasons. Cheap
   * (reads counters); safe to call at any time, from any probe. Emits `health.changed` when the
   * verdict differs from the last one computed.
   */
  health(): BusHealth {
    const running = this.#running;
    const health = computeHealth({
      status: this.#status,
      startFailed: this.#startFailed,
      transport:
        running === undefined
          ? undefined
          : { name: running.transport.name, status: running.transport.status, since: this.#transportSince },
      subscriptions: running?.router.subscriptions() ?? [],
      options: this.#config.health ?? {},
      now: Date.now(),
    });
    const verdict = `${String(health.ready)}/${String(health.live)}`;
    if (verdict !== this.#lastVerdict) {
      this.#lastVerdict = verdict;
      this.#emitter.emit('health.changed', {
        ready: health.ready,
        live: health.live,
        reasons: health.reasons,
      });
    }
    return health;
  }

  /**
   * How many messages wait for each subscription's group, as the broker reports it (Kafka
   * consumer lag, RabbitMQ ready messages, SQS approximate depth, Service Bus active count; see
   * `BacklogKind`). Asks the broker only when called — nothing runs in the background — with at
   * most one query in flight per group, readings reused for `maxAgeMs` and a wait bounded by
   * `timeoutMs` (a group the broker did not answer in time keeps its previous reading and gets
   * `error`). Never rejects. Empty when the bus is not started or its transport does not report
   * backlog (`capabilities.backlog` absent). Kept out of {@link health}, which stays synchronous
   * and broker-free for probes.
   */
  async backlog(options: BacklogOptions = {}): Promise<readonly SubscriptionBacklog[]> {
    const running = this.#running;
    const read = running?.transport.readBacklog?.bind(running.transport);
    if (running === undefined || read === undefined || running.transport.capabilities.backlog === undefined)
      return [];
    if (this.#backlog?.transport !== running.transport)
      this.#backlog = {
        transport: running.transport,
        sampler: new BacklogSampler(running.transport.name, read),
      };
    const targets = running.router.subscriptions().map(({ spec }) => spec);
    this.#backlog.sampler.retain(targets);
    return this.#backlog.sampler.sample(targets, options);
  }

  #checkHealth(): void {
    if (this.#emitter.listenerCount('health.changed') > 0) this.health();
  }

  #requireOpen(): Running {
    if (this.#publishOpen && this.#running !== undefined) return this.#running;
    if (this.#stopping !== undefined || this.#status === 'stopped')
      throw new OmnibusError(
        ErrorCodes.BUS_CLOSED,
        'the bus is stopped; publish before stop() or create a new bus',
      );
    throw new OmnibusError(
      ErrorCodes.BUS_NOT_STARTED,
      'the bus is not started; await bus.start() before publishing',
    );
  }

  /** Register the event and provision its destination once; `undefined` when both are already done (no await on the hot path). */
  #ensureKnown(running: Running, event: EventDefinition<unknown>): Promise<void> | undefined {
    const conflict = running.events.register(event);
    if (conflict !== undefined) throw new OmnibusError(ErrorCodes.CONFIGURATION_INVALID, conflict);
    return this.#provisionOnce(running, destinationOf(event));
  }

  /** Provision `destination` (no groups) once per bus; `undefined` when already done. */
  #provisionOnce(running: Running, destination: string): Promise<void> | undefined {
    if (running.ready.has(destination)) return undefined;
    let provisioning = running.provisioned.get(destination);
    if (provisioning === undefined) {
      provisioning = running.transport.provision({ destinations: [{ name: destination, groups: [] }] });
      running.provisioned.set(destination, provisioning);
      provisioning.then(
        () => running.ready.add(destination),
        () => running.provisioned.delete(destination),
      );
    }
    return provisioning;
  }

  /**
   * Listen to an instrumentation event (`message.published`, `message.received`,
   * `message.settled`, `handler.failed`, `settlement.failed`, `transport.status`,
   * `health.changed`). Listener
   * errors are logged and never affect delivery. Returns a disposer.
   */
  on<K extends InstrumentationEventName>(name: K, listener: InstrumentationListener<K>): () => void {
    return this.#emitter.on(name, listener);
  }

  /**
   * Opt-in: stop the bus on SIGTERM/SIGINT (then re-raise the signal unless `exit: false`).
   * Returns a disposer that removes the listeners.
   */
  stopOnSignals(options: StopOnSignalsOptions = {}): () => void {
    return installSignalHandlers(
      () => this.stop(options.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: options.drainTimeoutMs }),
      options,
    );
  }
}

/** Hand messages to the transport; errors that are not typed become `PUBLISH_FAILED`. */
async function send(
  transport: Transport,
  event: EventDefinition<unknown>,
  destination: string,
  messages: readonly OutgoingMessage[],
): Promise<void> {
  try {
    await transport.publish(destination, messages);
  } catch (error) {
    throw publishFailed(error, event, destination);
  }
}

/** A transport's publish error as is when typed, else wrapped as `PUBLISH_FAILED`. */
function publishFailed(error: unknown, event: EventDefinition<unknown>, destination: string): Error {
  if (isOmnibusError(error)) return error;
  return new OmnibusError(
    ErrorCodes.PUBLISH_FAILED,
    `publishing ${event.name} to "${destination}" failed: ${error instanceof Error ? error.message : String(error)}`,
    { cause: error },
  );
}

/** The envelopes of `messages`, in order. */
function envelopesOf(messages: readonly OutgoingMessage[]): MessageEnvelope[] {
  return messages.map((m) => m.envelope);
}

/** The only envelope of a one-message publish. */
function first(envelopes: MessageEnvelope[]): MessageEnvelope {
  return envelopes[0] as MessageEnvelope;
}

/** Wait for `promise`, but no longer than `ms` (then call `onTimeout` and resolve). Never rejects. */
async function bounded(promise: Promise<unknown>, ms: number, onTimeout: () => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    const result = await Promise.race([
      promise.then(
        () => 'done' as const,
        () => 'done' as const,
      ),
      timeout,
    ]);
    if (result === 'timeout') onTimeout();
  } finally {
    clearTimeout(timer);
  }
}
