import { ErrorCodes } from '../errors/error-codes.js';
import { OmnibusError } from '../errors/omnibus-error.js';
import type { HandlerMiddleware } from './handler-middleware.js';

/**
 * Fails the attempt with a retriable `HANDLER_TIMEOUT` OmnibusError (retried per policy) when
 * downstream does not finish within `timeoutMs`, and aborts `context.signal` so a cooperative
 * handler can stop. Also gives up at once when the incoming signal aborts (the bus is stopping),
 * failing with the abort reason. A handler that ignores the signal keeps running in the
 * background; its eventual result is ignored. `timeoutMs` ≤ 0 or infinite disables it.
 */
export function timeoutMiddleware(timeoutMs: number): HandlerMiddleware {
  return async (context, next) => {
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) return next();
    const outer = context.signal;
    // One controller linked to the outer signal by hand: AbortSignal.any() costs ~100 µs per
    // call on Node 20 and keeps weak references alive until GC, which dominated the hot path.
    const controller = new AbortController();
    context.signal = controller.signal;
    let timer: NodeJS.Timeout | undefined;
    let onAbort: (() => void) | undefined;
    const gaveUp = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const error = new OmnibusError(
          ErrorCodes.HANDLER_TIMEOUT,
          `handler ${context.handler} did not finish within ${String(timeoutMs)} ms`,
          { retriable: true },
        );
        controller.abort(error);
        reject(error);
      }, timeoutMs);
      onAbort = () => {
        controller.abort(outer.reason);
        reject(outer.reason instanceof Error ? outer.reason : new Error(String(outer.reason)));
      };
      if (outer.aborted) onAbort();
      else outer.addEventListener('abort', onAbort, { once: true });
    });
    const running = next();
    running.catch(() => undefined); // a late failure after giving up must not be unhandled
    try {
      await Promise.race([running, gaveUp]);
    } finally {
      clearTimeout(timer);
      if (onAbort !== undefined) outer.removeEventListener('abort', onAbort);
    }
  };
}
