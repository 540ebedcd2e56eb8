import { ErrorCodes } from '../errors/error-codes.js';
import { OmnibusError } from '../errors/omnibus-error.js';
import type { HandlerMiddleware } from './handler-middleware.js';

/**
 * Fails the attempt with a retriable `HANDLER_TIMEOUT` OmnibusError (retried per policy) when
 * downstream does not finish within `timeoutMs`, and aborts `context.signal` so a cooperative
 * handler can stop. A handler that ignores the signal keeps running in the background; its
 * eventual result is ignored. `timeoutMs` ≤ 0 or infinite disables it.
 */
export function timeoutMiddleware(timeoutMs: number): HandlerMiddleware {
  return async (context, next) => {
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) return next();
    const controller = new AbortController();
    context.signal = AbortSignal.any([context.signal, controller.signal]);
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new OmnibusError(ErrorCodes.HANDLER_TIMEOUT, `handler ${context.handler} did not finish within ${String(timeoutMs)} ms`, { retriable: true });
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    });
    const running = next();
    running.catch(() => undefined); // a late failure after the timeout must not be unhandled
    try {
      await Promise.race([running, timedOut]);
    } finally {
      clearTimeout(timer);
    }
  };
}
