import type {
  InstrumentationEventName,
  InstrumentationListener,
} from '../instrumentation/instrumentation-events.js';
import type { BacklogOptions, SubscriptionBacklog } from '../health/backlog-sampler.js';
import type { Logger } from '../logging/logger.js';
import type { DeliveryInterceptor } from './delivery-interceptor.js';
import type { PublishMiddleware } from './publish-middleware.js';

/** What a plugin's `attach` may use of the bus. */
export interface PluginHost {
  /** Listen to an instrumentation event; returns a disposer. */
  on<K extends InstrumentationEventName>(name: K, listener: InstrumentationListener<K>): () => void;
  /** The bus logger. */
  readonly logger: Logger;
  /** `EventBus.backlog()`: each subscription's backlog, read from the broker on demand. */
  backlog(options?: BacklogOptions): Promise<readonly SubscriptionBacklog[]>;
}

/**
 * A bundle of hooks installed together (e.g. `@omnibus/opentelemetry`). Its publish middleware
 * runs after `EventBusConfig.publishMiddleware`, its interceptor after
 * `EventBusConfig.deliveryInterceptors`; plugins in list order. `attach` is called once when
 * the bus is constructed; its disposer (if any) when the bus stopped.
 */
export interface EventBusPlugin {
  /** For logs and error messages. */
  readonly name: string;
  readonly publish?: PublishMiddleware;
  readonly deliver?: DeliveryInterceptor;
  /** Called once when the bus starts; may return a disposer called when it stops. */
  readonly attach?: (host: PluginHost) => (() => void) | void;
  /**
   * Whether the plugin's hooks have work to do right now (e.g. an OpenTelemetry SDK is
   * registered). When every hook of a kind comes from plugins answering `false`, the bus skips
   * that hook chain entirely for the operation. Called once per publish and per delivery: keep it
   * cheap. Absent: always active.
   */
  readonly active?: () => boolean;
}

/**
 * When the hooks of one kind need to run: `undefined` = always (a hook from the configuration,
 * or from a plugin without `active`), else a predicate over the plugins' `active`. Pure.
 */
export function hooksActive(
  configured: number,
  plugins: readonly EventBusPlugin[],
  has: (plugin: EventBusPlugin) => boolean,
): (() => boolean) | undefined {
  const owners = plugins.filter(has);
  if (configured > 0 || owners.some((p) => p.active === undefined)) return undefined;
  const checks = owners.map((p) => p.active as () => boolean);
  const [only] = checks;
  if (checks.length === 1 && only !== undefined) return only;
  return () => checks.some((check) => check());
}
