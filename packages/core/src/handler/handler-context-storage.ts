import { AsyncLocalStorage } from 'node:async_hooks';
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

/** Run `fn` outside any handler context (a batch belongs to none of its messages). @internal */
export function runOutsideHandlerContext<R>(fn: () => R): R {
  return storage.exit(fn);
}
