import type {
  InstrumentationEventName,
  InstrumentationListener,
} from '../instrumentation/instrumentation-events.js';
import type { Logger } from '../logging/logger.js';
import type { DeliveryInterceptor } from './delivery-interceptor.js';
import type { PublishMiddleware } from './publish-middleware.js';

/** What a plugin's `attach` may use of the bus. */
export interface PluginHost {
  /** Listen to an instrumentation event; returns a disposer. */
  on<K extends InstrumentationEventName>(name: K, listener: InstrumentationListener<K>): () => void;
  /** The bus logger. */
  readonly logger: Logger;
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
  readonly attach?: (host: PluginHost) => (() => void) | void;
}
