import type { ConfigurationProblems } from '../errors/configuration-error.js';
import { ErrorCodes } from '../errors/error-codes.js';
import type { HandlerRegistration } from '../handler/handler-registration.js';
import type { TransportCapabilities } from '../transport/capabilities.js';

/**
 * Report (as `CAPABILITY_MISSING` problems) every handler whose needs the transport cannot
 * meet: `ordered` without per-key ordering; a retry cap above `maxRetryDelayMs`. Pure apart
 * from `problems`.
 */
export function checkCapabilities(
  transportName: string,
  capabilities: TransportCapabilities,
  registrations: readonly HandlerRegistration[],
  problems: ConfigurationProblems,
): void {
  for (const registration of registrations) {
    const { options, handlerName } = registration;
    if (options.ordered && capabilities.ordering !== 'per-key') {
      problems.add(
        ErrorCodes.CAPABILITY_MISSING,
        `${handlerName} is ordered, but transport "${transportName}" has no per-key ordering`,
        'remove `ordered: true`, or choose a transport (or transport options) with per-key ordering',
      );
    }
    if (options.retry.maxAttempts > 1 && options.retry.maxDelayMs > capabilities.maxRetryDelayMs) {
      problems.add(
        ErrorCodes.CAPABILITY_MISSING,
        `${handlerName} retries up to ${String(options.retry.maxDelayMs)} ms apart, but transport "${transportName}" supports retry delays up to ${String(capabilities.maxRetryDelayMs)} ms`,
        `set retry.maxDelayMs ≤ ${String(capabilities.maxRetryDelayMs)} (handler option or \`defaults.retry\`)`,
      );
    }
  }
}
