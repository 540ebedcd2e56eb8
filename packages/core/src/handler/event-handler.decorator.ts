import type { EventDefinition, RequestDefinition } from '../events/event-definition.js';
import type { BatchHandlerMethod, BatchOptions } from './batch-handler.js';
import type { EventHandlerOptions } from './event-handler-options.js';
import type { HandlerContext } from './handler-context.js';
import { appendHandlerMetadata } from './handler-metadata.js';

/** Signature a decorated method must have. */
export type EventHandlerMethod<T> = (payload: T, context: HandlerContext) => void | Promise<void>;

/** Signature of the handler of a request: returns (or resolves with) the reply. */
export type RequestHandlerMethod<T, R> = (payload: T, context: HandlerContext) => R | Promise<R>;

/**
 * Marks a method as the handler of `event`. Records metadata on the class only (no global
 * registry, no side effect beyond the class): the class must still be passed to
 * `createEventBus({ handlers: [...] })`. Options are validated at registration, so mistakes
 * surface in the single start-up configuration error. A method may carry several
 * `@EventHandler`s for different events.
 *
 * @example
 * ```ts
 * class Billing {
 *   @EventHandler(OrderPlaced, { group: 'billing', retry: { maxAttempts: 5 } })
 *   async onOrderPlaced(order: OrderPlacedPayload, context: HandlerContext) { … }
 *
 *   // A batch handler: up to 100 messages, handed over at most 250 ms after the first arrived;
 *   // each entry is acked unless failed on its own.
 *   @EventHandler(OrderPlaced, { group: 'ledger', batch: { maxSize: 100, maxWaitMs: 250 } })
 *   async onOrders(entries: readonly BatchEntry<OrderPlacedPayload>[], context: BatchContext) { … }
 * }
 * ```
 */
export function EventHandler<T>(
  event: EventDefinition<T>,
  options: EventHandlerOptions<NoInfer<T>> & { readonly batch: BatchOptions },
): <M extends BatchHandlerMethod<T>>(
  target: object,
  methodName: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void;
export function EventHandler<T, R>(
  event: RequestDefinition<T, R>,
  options?: EventHandlerOptions<NoInfer<T>>,
): <M extends RequestHandlerMethod<T, R>>(
  target: object,
  methodName: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void;
export function EventHandler<T>(
  event: EventDefinition<T>,
  options?: EventHandlerOptions<NoInfer<T>>,
): <M extends EventHandlerMethod<T>>(
  target: object,
  methodName: string | symbol,
  descriptor: TypedPropertyDescriptor<M>,
) => void;
export function EventHandler<T>(event: EventDefinition<T>, options: EventHandlerOptions<NoInfer<T>> = {}) {
  return (target: object, methodName: string | symbol, _descriptor: PropertyDescriptor): void => {
    const isStatic = typeof target === 'function';
    const ctor = isStatic ? target : (target as { constructor: object }).constructor;
    appendHandlerMetadata(ctor, { methodName, event, options, isStatic });
  };
}
