import type { ConfigurationProblems } from '../errors/configuration-error.js';
import { ErrorCodes } from '../errors/error-codes.js';
import type { HandlerRegistration } from '../handler/handler-registration.js';
import type { TransportCapabilities } from '../transport/capabilities.js';

/**
 * Fit handlers to what the transport can do. Reports (as `CAPABILITY_MISSING` problems) every
 * handler whose explicit needs the transport cannot meet: `ordered` without per-key ordering;
 * a `retry.maxDelayMs` set (by the handler or the bus defaults) above `maxRetryDelayMs`. The
 * built-in default cap is instead lowered to the transport's limit (so are the initial delay and
 * unlimited defaults). With `alias` (one of several transports of a bus), problems name the
 * transport as `"alias" (name)` and the handler's event. Returns the registrations to use.
 * Pure apart from `problems`.
 */
export function fitToCapabilities(
  transportName: string,
  capabilities: TransportCapabilities,
  registrations: readonly HandlerRegistration[],
  problems: ConfigurationProblems,
  alias?: string,
): HandlerRegistration[] {
  const transport = alias === undefined ? `"${transportName}"` : `"${alias}" (${transportName})`;
  return registrations.map((registration) => {
    const { options } = registration;
    const handlerName =
      alias === undefined
        ? registration.handlerName
        : `${registration.handlerName} (event ${registration.event.name})`;
    if (options.ordered && capabilities.ordering !== 'per-key') {
      problems.add(
        ErrorCodes.CAPABILITY_MISSING,
        `${handlerName} is ordered, but transport ${transport} has no per-key ordering`,
        'remove `ordered: true`, or choose a transport (or transport options) with per-key ordering',
      );
    }
    const limit = capabilities.maxRetryDelayMs;
    if (options.retry.maxAttempts <= 1 || options.retry.maxDelayMs <= limit) return registration;
    if (registration.retryCapExplicit) {
      problems.add(
        ErrorCodes.CAPABILITY_MISSING,
        `${handlerName} retries up to ${String(options.retry.maxDelayMs)} ms apart, but transport ${transport} supports retry delays up to ${String(limit)} ms`,
        `set retry.maxDelayMs ≤ ${String(limit)} (handler option or \`defaults.retry\`)`,
      );
      return registration;
    }
    const retry = {
      ...options.retry,
      maxDelayMs: limit,
      initialDelayMs: Math.min(options.retry.initialDelayMs, limit),
    };
    return { ...registration, options: { ...options, retry } };
  });
}
