import type { ReplyBody } from '../bus/reply-channel.js';
import { ErrorCodes } from '../errors/error-codes.js';
import { isOmnibusError, OmnibusError } from '../errors/omnibus-error.js';
import { isUnrecoverableError } from '../errors/unrecoverable-error.js';
import type { MessageEnvelope } from '../message/envelope.js';
import type { MiddlewareContext } from '../handler/handler-context.js';
import { HandlerContextScope } from '../handler/handler-context-storage.js';
import type { HandlerRegistration } from '../handler/handler-registration.js';
import type { HandlerResolver } from '../handler/handler-resolver.js';
import { composeMiddleware, type HandlerMiddleware } from '../middleware/handler-middleware.js';
import { upcastPayload } from '../events/upcasting.js';
import { matchesFilter } from '../handler/handler-filter.js';
import type { FilterMark, HandlerFacts } from './delivery-context.js';
import { schemaValidationMiddleware } from '../middleware/schema-validation-middleware.js';
import type { DeadlineQueue } from './deadline-queue.js';
import type { BatchHandlerMethod } from '../handler/batch-handler.js';
import { BatchCollector } from './batch-collector.js';

/** A registration with its pipeline, compiled once when the router subscribes. */
export interface CompiledHandler {
  readonly registration: HandlerRegistration;
  /**
   * Runs the pipeline for one attempt. Returns `undefined` when everything completed
   * synchronously (a synchronous handler and no asynchronous middleware), a promise otherwise;
   * throws or rejects with whatever failed the attempt. The timeout is not part of it: the
   * router enforces it through {@link deadlines}.
   */
  readonly run: (context: MiddlewareContext) => Promise<void> | void;
  /** The shared timer wheel of this handler's `timeoutMs`. */
  readonly deadlines: DeadlineQueue;
  /** Batch handlers only: hand over waiting batches now and later ones at once (the bus is stopping). */
  readonly closeBatches?: () => void;
  /** What every attempt's context shares, built on the first delivery (the router's cache). @internal */
  shared?: HandlerFacts;
}

type Step = (context: MiddlewareContext) => Promise<void> | void;

/**
 * Compose the pipeline of one handler once, outermost first: the handler context
 * (AsyncLocalStorage, entered once per attempt) → upcasting (only when the event declares a
 * `version`: older payloads are converted to the current one) → schema validation (only when the event has
 * a schema) → the handler's filter (only when it has one; a non-match marks the context
 * `filtered` and skips the rest) → bus middleware → handler middleware (composed only when there is any) → resolve
 * the instance (`HandlerResolver`, awaited only when it returns a promise) and call the
 * method. A batch handler's last step instead queues the attempt in its {@link BatchCollector},
 * which calls the method once per batch and finishes each attempt with its own entry's outcome.
 * Resolution failures become retriable `HANDLER_NOT_RESOLVED` errors. The attempt's
 * timeout and the bus stop are enforced by the router around this pipeline (one shared timer
 * per timeout value, one abort signal per attempt).
 */
export function compileHandler(
  registration: HandlerRegistration,
  resolver: HandlerResolver,
  busMiddleware: readonly HandlerMiddleware[],
  deadlines: DeadlineQueue,
  replier?: Replier,
  inheritCallerContext = true,
): CompiledHandler {
  const answers = registration.event.kind === 'request' && replier !== undefined;
  const { handlerClass, methodName, handlerName, options } = registration;
  const noMethod = (): OmnibusError =>
    new OmnibusError(
      ErrorCodes.HANDLER_NOT_RESOLVED,
      `the resolved ${handlerClass.name} has no method ${String(methodName)}`,
      { retriable: true },
    );
  const call = (instance: object, context: MiddlewareContext): Promise<void> | void => {
    const method = (instance as Record<string | symbol, unknown>)[methodName];
    if (typeof method !== 'function') throw noMethod();
    const result: unknown = (method as (payload: unknown, context: MiddlewareContext) => unknown).call(
      instance,
      context.payload,
      context,
    );
    if (answers) return keepReply(context, result);
    if (result instanceof Promise) return result as Promise<void>;
    return isThenable(result) ? (Promise.resolve(result) as Promise<void>) : undefined;
  };
  const notResolved = (error: unknown): OmnibusError =>
    new OmnibusError(
      ErrorCodes.HANDLER_NOT_RESOLVED,
      `could not resolve ${handlerClass.name} for ${handlerName}: ${error instanceof Error ? error.message : String(error)}`,
      { retriable: true, cause: error },
    );
  const invoke: Step = (context) => {
    let resolved: object | Promise<object>;
    try {
      resolved = resolver.resolve(handlerClass);
    } catch (error) {
      throw notResolved(error);
    }
    if (!isThenable(resolved)) return call(resolved, context);
    return (Promise.resolve(resolved) as Promise<object>).then(
      (instance) => call(instance, context),
      (error: unknown) => {
        throw notResolved(error);
      },
    );
  };
  const batches =
    options.batch === undefined
      ? undefined
      : new BatchCollector(options.batch, handlerName, (entries, shared) => {
          const callBatch = (instance: object): Promise<void> | void => {
            const method = (instance as Record<string | symbol, unknown>)[methodName];
            if (typeof method !== 'function') throw noMethod();
            const result: unknown = (method as BatchHandlerMethod<unknown>).call(instance, entries, shared);
            return isThenable(result) ? (Promise.resolve(result) as Promise<void>) : undefined;
          };
          let resolved: object | Promise<object>;
          try {
            resolved = resolver.resolve(handlerClass);
          } catch (error) {
            throw notResolved(error);
          }
          if (!isThenable(resolved)) return callBatch(resolved);
          return (Promise.resolve(resolved) as Promise<object>).then(callBatch, (error: unknown) => {
            throw notResolved(error);
          });
        });
  const terminal: Step = batches === undefined ? invoke : (context) => batches.add(context);
  const middleware = [...busMiddleware, ...options.middleware];
  const inner: Step =
    middleware.length === 0 ? terminal : composeMiddleware(middleware, async (c) => terminal(c));
  const filter = options.filter;
  const gated: Step =
    filter === undefined
      ? inner
      : (context) => {
          if (matchesFilter(filter, handlerName, context.payload, context.envelope.headers))
            return inner(context);
          (context as Partial<FilterMark>).filtered = true;
          return undefined;
        };
  const validate = schemaValidationMiddleware();
  const validated: Step = (context) => validate(context, () => Promise.resolve(gated(context)));
  const hasSchema = registration.event.schema !== undefined;
  const checked: Step = hasSchema ? validated : gated;
  const { name, version, upcasters } = registration.event;
  const pipeline: Step =
    version === undefined
      ? checked
      : (context) => {
          context.payload = upcastPayload(
            name,
            version,
            upcasters,
            context.envelope.version,
            context.payload,
          );
          return checked(context);
        };
  const run: Step =
    answers && replier !== undefined ? (context) => answerRequest(context, pipeline, replier) : pipeline;
  const scope = new HandlerContextScope(inheritCallerContext);
  return {
    registration,
    deadlines,
    run: (context) => scope.run(context, run),
    ...(batches === undefined ? {} : { closeBatches: () => batches.close() }),
  };
}

/** Sends a reply for a request: to `request.replyTo`, confirmed before the request is acked. @internal */
export type Replier = (request: MessageEnvelope, body: ReplyBody) => Promise<void>;

const REPLY_VALUE = Symbol('omnibus.reply-value');

function keepReply(context: MiddlewareContext, result: unknown): Promise<void> | undefined {
  const holder = context as unknown as Record<symbol, unknown>;
  if (!isThenable(result)) {
    holder[REPLY_VALUE] = result;
    return undefined;
  }
  return Promise.resolve(result).then((value) => {
    holder[REPLY_VALUE] = value;
  });
}

/**
 * Run a request's pipeline and answer it: the handler's value on success; on a failure that
 * ends the request (unrecoverable, or the last attempt) a `{ ok: false }` reply with the error's
 * code and message before rethrowing, so the requester never hangs on a dead-lettered request.
 * A request published without `replyTo` (plain `publish`) runs without a reply. A failing
 * success reply fails the attempt (the request is retried).
 */
async function answerRequest(context: MiddlewareContext, pipeline: Step, replier: Replier): Promise<void> {
  if (context.envelope.replyTo === undefined) return pipeline(context);
  try {
    await pipeline(context);
  } catch (error) {
    if (isUnrecoverableError(error) || context.deliveryAttempt >= context.maxAttempts) {
      const code = isUnrecoverableError(error) || isOmnibusError(error) ? error.code : 'HANDLER_FAILED';
      const message = error instanceof Error ? error.message : String(error);
      await replier(context.envelope, { ok: false, error: { code, message } }).catch(
        (replyError: unknown) => {
          context.logger.warn('could not send the failure reply of a request', {
            messageId: context.envelope.id,
            error: replyError,
          });
        },
      );
    }
    throw error;
  }
  if ((context as Partial<FilterMark>).filtered === true) {
    await replier(context.envelope, {
      ok: false,
      error: { code: 'FILTERED', message: `the filter of ${context.handler} did not match the request` },
    });
    return;
  }
  await replier(context.envelope, {
    ok: true,
    value: (context as unknown as Record<symbol, unknown>)[REPLY_VALUE],
  });
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
