import { ErrorCodes } from '../errors/error-codes.js';
import { UnrecoverableError } from '../errors/unrecoverable-error.js';
import { summarizeIssues, validatePayload } from '../events/validate-payload.js';
import type { HandlerMiddleware } from './handler-middleware.js';

/**
 * Validates the decoded payload with the event's Standard Schema (no-op without one) and
 * replaces `context.payload` with the schema's output. An invalid payload can never succeed
 * on retry, so it throws an {@link UnrecoverableError} with code `VALIDATION_FAILED`: the
 * router dead-letters it at once with the issues as reason.
 */
export function schemaValidationMiddleware(): HandlerMiddleware {
  return async (context, next) => {
    const result = await validatePayload(context.event.schema, context.payload);
    if (!result.ok) {
      throw new UnrecoverableError(
        `payload of ${context.event.name} failed schema validation: ${summarizeIssues(result.issues)}`,
        {
          code: ErrorCodes.VALIDATION_FAILED,
        },
      );
    }
    context.payload = result.value;
    return next();
  };
}
