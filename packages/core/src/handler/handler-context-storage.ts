import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import type { HandlerContext } from './handler-context.js';

const storage = new AsyncLocalStorage<HandlerContext>();

/**
 * The context of the handler currently running in this async call chain, or `undefined`
 * outside handlers. Safe under any concurrency: each delivery has its own chain.
 */
export function currentHandlerContext(): HandlerContext | undefined {
  return storage.getStore();
}

/** Run `fn` with `context` as the current handler context (used by the correlation middleware). */
export function runInHandlerContext<R>(context: HandlerContext, fn: () => R): R {
  return storage.run(context, fn);
}

/**
 * Run `fn(context)` with `context` as the current handler context: {@link runInHandlerContext}
 * without a closure per call (the router's hot path). @internal
 */
export function runWithHandlerContext<C extends HandlerContext, R>(context: C, fn: (context: C) => R): R {
  return storage.run(context, fn, context);
}

/**
 * True where AsyncLocalStorage is built on async context frames (Node 24's default): there
 * `run(store, fn)` allocates one frame to enter and a second one to restore the caller's, and
 * both live as long as any promise the handler made. Detected from the implementation once.
 * @internal
 */
export const FRAME_BASED = AsyncLocalStorage.prototype.run.toString().includes('enterWith(prior)');

function enterAndRun<C extends HandlerContext, R>(context: C, fn: (context: C) => R): R {
  storage.enterWith(context);
  return fn(context);
}

/**
 * Where the router's attempts enter their handler context. `inherit` (delivery interceptors
 * are installed): each attempt runs in the caller's async context plus its handler context
 * (`AsyncLocalStorage.run`), so what an interceptor made current around `next()` (an
 * OpenTelemetry span) is seen by the handler. Otherwise, on frame-based runtimes, each attempt
 * runs in the async context that was current when the scope was made (bus start) plus its
 * handler context, entered through one `AsyncResource` made once: one frame per attempt instead
 * of two, and the caller's frame restored without allocating. What the transport's own callback
 * chain had made current (nothing an application sets up; with the in-memory transport, the
 * publisher's chain) is then not seen by handlers, as with a real broker. Where `run` does not
 * allocate frames (Node 22 by default) the scope always inherits. @internal
 */
export class HandlerContextScope {
  readonly #resource: AsyncResource | undefined;

  constructor(inherit: boolean) {
    this.#resource = inherit || !FRAME_BASED ? undefined : new AsyncResource('omnibus.handler');
  }

  /** Run `fn(context)` with `context` as the current handler context. */
  run<C extends HandlerContext, R>(context: C, fn: (context: C) => R): R {
    const resource = this.#resource;
    if (resource === undefined) return storage.run(context, fn, context);
    return resource.runInAsyncScope(enterAndRun, undefined, context, fn) as R;
  }
}

/** Run `fn` outside any handler context (a batch belongs to none of its messages). @internal */
export function runOutsideHandlerContext<R>(fn: () => R): R {
  return storage.exit(fn);
}
