import { runInHandlerContext } from '../handler/handler-context-storage.js';
import type { HandlerMiddleware } from './handler-middleware.js';

/**
 * Makes the delivery's context the current {@link HandlerContext} (AsyncLocalStorage) for
 * everything downstream, so `EventBus.publish` inside a handler stamps `correlationId`
 * (incoming correlationId ?? incoming id), `causationId` (incoming id) and the trace context.
 * The router installs it outermost on every handler.
 */
export function correlationMiddleware(): HandlerMiddleware {
  return (context, next) => runInHandlerContext(context, next);
}
