import type { CodecRegistry } from '../codec/codec-registry.js';
import { ErrorCodes } from '../errors/error-codes.js';
import { isOmnibusError, OmnibusError } from '../errors/omnibus-error.js';
import type { EventRegistry } from '../events/event-registry.js';
import { messagesInFlight } from '../handler/event-handler-options.js';
import type { HandlerRegistration } from '../handler/handler-registration.js';
import type { HandlerResolver } from '../handler/handler-resolver.js';
import type { InstrumentationEmitter } from '../instrumentation/instrumentation-emitter.js';
import type { Logger } from '../logging/logger.js';
import type { HandlerMiddleware } from '../middleware/handler-middleware.js';
import {
  runDeliveryInterceptors,
  type DeliveryInterceptor,
  type SubscriptionInfo,
} from '../hooks/delivery-interceptor.js';
import type { Delivery } from '../transport/delivery.js';
import { transportFor } from '../transport/routed/routed-transport.js';
import type { Subscription, SubscriptionSpec, Transport } from '../transport/transport.js';
import { compileHandler, type CompiledHandler, type Replier } from './compile-handler.js';
import { DeadlineQueue } from './deadline-queue.js';
import { processDelivery, type Route } from './delivery-processor.js';
import { InFlightTracker } from './in-flight-tracker.js';
import { SubscriptionStats } from './subscription-stats.js';

/** Dependencies of {@link EventRouter}. */
export interface EventRouterOptions {
  readonly transport: Transport;
  readonly registrations: readonly HandlerRegistration[];
  readonly events: EventRegistry;
  readonly codecs: CodecRegistry;
  readonly resolver: HandlerResolver;
  readonly middleware: readonly HandlerMiddleware[];
  readonly emitter: InstrumentationEmitter;
  readonly logger: Logger;
  /** Wrap every delivery (first outermost); none: deliveries go straight to the processor. */
  readonly interceptors?: readonly DeliveryInterceptor[];
  /** When given and false for a delivery, the interceptors are skipped for it. */
  readonly interceptorsActive?: () => boolean;
  /** Random source for retry jitter (tests pin it). */
  readonly random?: () => number;
  /** Sends the replies of request handlers (the bus gives one). */
  readonly replier?: Replier;
}

/**
 * Subscribes every handler and owns settlement. Handlers sharing a destination and group share
 * one subscription (dispatching by event type). `start` and `stop` are each meant to be called
 * once, by the bus; `stop` is idempotent.
 */
export class EventRouter {
  readonly #options: EventRouterOptions;
  readonly #subscriptions: Subscription[] = [];
  readonly #routes: { readonly spec: SubscriptionSpec; readonly route: Route }[] = [];
  readonly #inFlight = new InFlightTracker();
  /** One shared timeout timer per distinct handler `timeoutMs`. */
  readonly #deadlines = new Map<number, DeadlineQueue>();
  #stopping: Promise<void> | undefined;

  constructor(options: EventRouterOptions) {
    this.#options = options;
  }

  /** The subscriptions this router opens, one per destination and group. Pure. */
  routes(): readonly { readonly spec: SubscriptionSpec; readonly route: Route }[] {
    const byKey = new Map<
      string,
      {
        spec: SubscriptionSpec;
        handlers: Map<string, CompiledHandler>;
        deadLetter: boolean;
        stats: SubscriptionStats;
      }
    >();
    for (const registration of this.#options.registrations) {
      const { destination, options } = registration;
      const key = `${destination}\u0000${options.group}`;
      let entry = byKey.get(key);
      if (entry === undefined) {
        entry = {
          spec: {
            destination,
            group: options.group,
            concurrency: messagesInFlight(options),
            ordered: options.ordered,
            handlerTimeoutMs: options.timeoutMs,
          },
          handlers: new Map(),
          deadLetter: false,
          stats: new SubscriptionStats(),
        };
        byKey.set(key, entry);
      }
      entry.spec = {
        ...entry.spec,
        handlerTimeoutMs: Math.max(entry.spec.handlerTimeoutMs, options.timeoutMs),
        concurrency: Math.max(entry.spec.concurrency, messagesInFlight(options)),
      };
      entry.handlers.set(
        registration.event.name,
        compileHandler(
          registration,
          this.#options.resolver,
          this.#options.middleware,
          this.#deadlineQueue(options.timeoutMs),
          this.#options.replier,
          (this.#options.interceptors?.length ?? 0) > 0,
        ),
      );
      entry.deadLetter ||= options.deadLetter;
    }
    return [...byKey.values()].map(({ spec, handlers, deadLetter, stats }) => ({
      spec,
      route: { destination: spec.destination, group: spec.group, handlers, deadLetter, stats },
    }));
  }

  /** The subscriptions opened by {@link start} with their live counters (health). */
  subscriptions(): readonly { readonly spec: SubscriptionSpec; readonly stats: SubscriptionStats }[] {
    return this.#routes.map(({ spec, route }) => ({ spec, stats: route.stats }));
  }

  #deadlineQueue(timeoutMs: number): DeadlineQueue {
    let queue = this.#deadlines.get(timeoutMs);
    if (queue === undefined) {
      queue = new DeadlineQueue(timeoutMs);
      this.#deadlines.set(timeoutMs, queue);
    }
    return queue;
  }

  /**
   * Subscribe every route. On failure, closes what was opened and rejects with the transport's
   * error (or `SUBSCRIBE_FAILED`).
   */
  async start(): Promise<void> {
    const { transport, events, codecs, emitter, logger, random } = this.#options;
    const deps = {
      events,
      codecs,
      emitter,
      logger,
      capabilities: transport.capabilities,
      inFlight: this.#inFlight,
      ...(random === undefined ? {} : { random }),
    };
    const interceptors = this.#options.interceptors ?? [];
    const active = this.#options.interceptorsActive;
    for (const { spec, route } of this.routes()) {
      this.#routes.push({ spec, route });
      try {
        const own = transportFor(transport, spec.destination);
        const routeDeps = own === transport ? deps : { ...deps, capabilities: own.capabilities };
        const info: SubscriptionInfo = {
          transport: own.name,
          destination: spec.destination,
          group: spec.group,
          concurrency: spec.concurrency,
          ordered: spec.ordered,
        };
        const onError = (error: unknown): void =>
          logger.warn('delivery interceptor failed', {
            destination: spec.destination,
            group: spec.group,
            error,
          });
        const direct = (delivery: Delivery): Promise<void> => processDelivery(delivery, route, routeDeps);
        const intercepted = async (delivery: Delivery): Promise<void> => {
          await runDeliveryInterceptors(
            interceptors,
            delivery,
            info,
            (report) => processDelivery(delivery, route, routeDeps, report),
            onError,
          );
        };
        const subscription = await transport.subscribe(
          spec,
          interceptors.length === 0
            ? direct
            : active === undefined
              ? intercepted
              : (delivery) => (active() ? intercepted(delivery) : direct(delivery)),
        );
        route.stats.state = 'consuming';
        this.#subscriptions.push(subscription);
        logger.debug('subscribed', {
          destination: spec.destination,
          group: spec.group,
          concurrency: spec.concurrency,
          ordered: spec.ordered,
        });
      } catch (error) {
        await this.stop(0);
        if (isOmnibusError(error)) throw error;
        throw new OmnibusError(
          ErrorCodes.SUBSCRIBE_FAILED,
          `could not subscribe group "${spec.group}" to "${spec.destination}": ${error instanceof Error ? error.message : String(error)}`,
          { cause: error, retriable: true },
        );
      }
    }
  }

  /**
   * Close every subscription, draining up to `drainTimeoutMs`; running handlers still going
   * at the deadline get their `context.signal` aborted. Never rejects (failures are logged).
   * Idempotent: later calls return the first call's promise.
   */
  stop(drainTimeoutMs: number): Promise<void> {
    this.#stopping ??= this.#stop(drainTimeoutMs);
    return this.#stopping;
  }

  async #stop(drainTimeoutMs: number): Promise<void> {
    const deadline = Date.now() + drainTimeoutMs;
    for (const { route } of this.#routes) {
      route.stats.state = 'closed';
      for (const handler of route.handlers.values()) handler.closeBatches?.();
    }
    await Promise.all(
      this.#subscriptions.splice(0).map((subscription) =>
        subscription.close(drainTimeoutMs).catch((error: unknown) => {
          this.#options.logger.warn('closing a subscription failed', { error });
        }),
      ),
    );
    await this.#inFlight.settle(
      deadline - Date.now(),
      new OmnibusError(ErrorCodes.BUS_CLOSED, 'the bus stopped before this handler finished'),
    );
    for (const queue of this.#deadlines.values()) queue.dispose();
  }
}
