import type { MiddlewareContext } from '../handler/handler-context.js';

/**
 * Wraps handler execution: do work before/after `next()`, or throw to fail the attempt (the
 * router then settles by the error: retry, `RetryLaterError`, `UnrecoverableError`…). Must
 * await `next()` at most once. Bus-level middleware wraps handler-level middleware; within
 * each list the first one is outermost.
 */
export type HandlerMiddleware = (context: MiddlewareContext, next: () => Promise<void>) => Promise<void>;

/**
 * Compose middleware around a terminal step into one function. The first middleware is
 * outermost. Calling `next()` twice from one middleware rejects with an Error.
 */
export function composeMiddleware(
  middleware: readonly HandlerMiddleware[],
  terminal: (context: MiddlewareContext) => Promise<void>,
): (context: MiddlewareContext) => Promise<void> {
  return composeChain(middleware, terminal);
}

/**
 * Generic form of {@link composeMiddleware} for any context type (publish middleware uses it).
 * The first middleware is outermost; `next()` twice from one middleware rejects.
 */
export function composeChain<C>(
  middleware: readonly ((context: C, next: () => Promise<void>) => Promise<void>)[],
  terminal: (context: C) => Promise<void>,
): (context: C) => Promise<void> {
  return (context) => {
    let lastIndex = -1;
    const dispatch = async (index: number): Promise<void> => {
      if (index <= lastIndex) throw new Error('middleware called next() more than once');
      lastIndex = index;
      const current = middleware[index];
      if (current === undefined) return terminal(context);
      return current(context, () => dispatch(index + 1));
    };
    return dispatch(0);
  };
}
