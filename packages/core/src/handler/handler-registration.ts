import type { EventDefinition } from '../events/event-definition.js';
import type { ResolvedHandlerOptions } from './event-handler-options.js';
import type { Constructor } from './handler-metadata.js';

/** A validated handler: one decorated method of one registered class, options resolved. */
export interface HandlerRegistration {
  /** The handler class (resolved through the `HandlerResolver` per delivery). */
  readonly handlerClass: Constructor;
  /** The decorated method. */
  readonly methodName: string | symbol;
  /** `ClassName.methodName`, for logs, errors and instrumentation. */
  readonly handlerName: string;
  /** Handled event. */
  readonly event: EventDefinition<unknown>;
  /** Destination consumed (the event's destination). */
  readonly destination: string;
  /** Resolved, validated options. */
  readonly options: ResolvedHandlerOptions;
  /** True when `retry.maxDelayMs` was set by the handler or the bus defaults (not the built-in default). */
  readonly retryCapExplicit: boolean;
}
