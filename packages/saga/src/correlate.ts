import { UnrecoverableError, type MessageEnvelope } from '@omnibus/core';
import type { SagaCorrelation } from './define-saga.js';

/** Dead-letter code: an event carries no correlation id for the saga. */
export const SAGA_CORRELATION_MISSING = 'SAGA_CORRELATION_MISSING';

/**
 * The correlation id of a message for a saga. @throws UnrecoverableError
 * `SAGA_CORRELATION_MISSING` when it is absent or not a non-empty string (the message is
 * dead-lettered: it can never find its instance).
 */
export function correlationIdOf(
  correlate: SagaCorrelation<unknown>,
  payload: unknown,
  envelope: MessageEnvelope,
  saga: string,
): string {
  let value: unknown;
  let where: string;
  if (typeof correlate === 'function') {
    value = correlate(payload, envelope);
    where = 'the correlate function';
  } else if (typeof correlate === 'string') {
    const field: string = correlate;
    value =
      typeof payload === 'object' && payload !== null
        ? (payload as Record<string, unknown>)[field]
        : undefined;
    where = `payload field "${field}"`;
  } else {
    value = envelope.headers[correlate.header];
    where = `header "${correlate.header}"`;
  }
  if (typeof value === 'number') value = String(value);
  if (typeof value !== 'string' || value === '')
    throw new UnrecoverableError(
      `saga "${saga}": ${envelope.type} message ${envelope.id} has no correlation id in ${where}`,
      { code: SAGA_CORRELATION_MISSING },
    );
  return value;
}
