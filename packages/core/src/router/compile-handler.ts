import { ErrorCodes } from '../errors/error-codes.js';
import { OmnibusError } from '../errors/omnibus-error.js';
import type { MiddlewareContext } from '../handler/handler-context.js';
import type { HandlerRegistration } from '../handler/handler-registration.js';
import type { HandlerResolver } from '../handler/handler-resolver.js';
import { correlationMiddleware } from '../middleware/correlation-middleware.js';
import { composeMiddleware, type HandlerMiddleware } from '../middleware/handler-middleware.js';
import { schemaValidationMiddleware } from '../middleware/schema-validation-middleware.js';
import { timeoutMiddleware } from '../middleware/timeout-middleware.js';

/** A registration with its composed pipeline. */
export interface CompiledHandler {
  readonly registration: HandlerRegistration;
  /** Runs middleware and the handler; rejects with whatever failed the attempt. */
  readonly run: (context: MiddlewareContext) => Promise<void>;
}

/**
 * Compose the pipeline of one handler, outermost first: correlation (handler context in
 * AsyncLocalStorage) → schema validation → timeout → bus middleware → handler middleware →
 * resolve the instance (`HandlerResolver`) and call the method. Resolution failures become
 * retriable `HANDLER_NOT_RESOLVED` errors.
 */
export function compileHandler(
  registration: HandlerRegistration,
  resolver: HandlerResolver,
  busMiddleware: readonly HandlerMiddleware[],
): CompiledHandler {
  const { handlerClass, methodName, handlerName, options } = registration;
  const invoke = async (context: MiddlewareContext): Promise<void> => {
    let instance: object;
    try {
      instance = await resolver.resolve(handlerClass);
    } catch (error) {
      throw new OmnibusError(
        ErrorCodes.HANDLER_NOT_RESOLVED,
        `could not resolve ${handlerClass.name} for ${handlerName}: ${error instanceof Error ? error.message : String(error)}`,
        { retriable: true, cause: error },
      );
    }
    const method = (instance as Record<string | symbol, unknown>)[methodName];
    if (typeof method !== 'function') {
      throw new OmnibusError(
        ErrorCodes.HANDLER_NOT_RESOLVED,
        `the resolved ${handlerClass.name} has no method ${String(methodName)}`,
        { retriable: true },
      );
    }
    await (method as (payload: unknown, context: MiddlewareContext) => unknown).call(
      instance,
      context.payload,
      context,
    );
  };
  const chain: HandlerMiddleware[] = [
    correlationMiddleware(),
    schemaValidationMiddleware(),
    timeoutMiddleware(options.timeoutMs),
    ...busMiddleware,
    ...options.middleware,
  ];
  return { registration, run: composeMiddleware(chain, invoke) };
}
