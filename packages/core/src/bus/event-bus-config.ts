import type { Flow } from '../flows/forwarding-flow.js';
import type { Codec } from '../codec/codec.js';
import type { TransportSelection } from '../config/transport-selection.js';
import type { EventDefinition } from '../events/event-definition.js';
import type { Constructor } from '../handler/handler-metadata.js';
import type { HandlerResolver } from '../handler/handler-resolver.js';
import type { HandlerDefaults } from '../handler/resolve-handler-options.js';
import type { HealthOptions } from '../health/bus-health.js';
import type { DeliveryInterceptor } from '../hooks/delivery-interceptor.js';
import type { EventBusPlugin } from '../hooks/event-bus-plugin.js';
import type { PublishMiddleware } from '../hooks/publish-middleware.js';
import type { Logger } from '../logging/logger.js';
import type { PinoLike } from '../logging/pino-logger.js';
import type { HandlerMiddleware } from '../middleware/handler-middleware.js';
import type { Transport } from '../transport/transport.js';
import type { TransportProvider } from '../transport/transport-provider.js';

/** Configuration of an {@link EventBus}. Everything is validated at `start()`, all problems at once. */
export interface EventBusConfig {
  /** A transport instance (the bus takes ownership and closes it), or a name and options. Default `{ name: 'in-memory' }`. */
  readonly transport?: Transport | TransportSelection;
  /**
   * Several transports in one bus, by alias (`{ stream: { name: 'kafka' }, work: { name: 'rabbitmq' } }`):
   * each event travels on the transport `routes` names for it, and `transport` (when set, alias
   * `default`) carries every event not routed. With `transports` there is no implicit in-memory
   * default: a known event no transport carries is a configuration problem.
   */
  readonly transports?: Readonly<Record<string, Transport | TransportSelection>>;
  /**
   * Event name (or destination) → alias in `transports`. Events sharing a destination share its
   * transport. Each handler is checked against its own event's transport at start.
   */
  readonly routes?: Readonly<Record<string, string>>;
  /** Providers to find named transports in (before the built-in and `@omnibus/transport-<name>`). */
  readonly providers?: readonly TransportProvider[];
  /** Handler classes with `@EventHandler` methods. */
  readonly handlers?: readonly Constructor[];
  /** Declarative forwarding flows (`defineFlow`): each becomes one handler of this bus. */
  readonly flows?: readonly Flow[];
  /** How handler instances are obtained. Default: {@link ConstructorResolver}. */
  readonly resolver?: HandlerResolver;
  /** Bus-level middleware, around every handler's own; first is outermost. */
  readonly middleware?: readonly HandlerMiddleware[];
  /** Codec for publishing (default JSON); also registered for decoding. */
  readonly codec?: Codec;
  /** Extra codecs for decoding other content types. */
  readonly codecs?: readonly Codec[];
  /**
   * Every event the bus publishes or handles. When given, a handler for an event not listed is
   * a configuration problem; when omitted, handled events are registered automatically.
   * Listed events are provisioned at start even without handlers.
   */
  readonly events?: readonly EventDefinition<unknown>[];
  /** Defaults for handler options (`group`, `retry`, `concurrency`, `timeoutMs`, `deadLetter`). */
  readonly defaults?: HandlerDefaults;
  /** Logger (default: no-op). A pino logger is accepted as it is (wrapped with `pinoLogger`). */
  readonly logger?: Logger | PinoLike;
  /** Around every publish's transport call (after validation and encoding); first is outermost. */
  readonly publishMiddleware?: readonly PublishMiddleware[];
  /** Around every delivery attempt, settlement included; first is outermost. */
  readonly deliveryInterceptors?: readonly DeliveryInterceptor[];
  /** Hook bundles (e.g. OpenTelemetry), installed after the two lists above. */
  readonly plugins?: readonly EventBusPlugin[];
  /** Thresholds of `bus.health()`'s verdict. */
  readonly health?: HealthOptions;
}
