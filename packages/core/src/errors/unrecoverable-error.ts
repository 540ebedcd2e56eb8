const BRAND = Symbol.for('omnibus.unrecoverable');

/** Default dead-letter code of an {@link UnrecoverableError}. */
export const UNRECOVERABLE = 'UNRECOVERABLE';

/**
 * Flow control: throw from a handler (or middleware) when retrying cannot help (poison
 * message, business rule violated). The router dead-letters the message at once with
 * `code` (default `UNRECOVERABLE`) and this message as the reason, or drops it (outcome
 * `discarded`) when the handler disabled dead-lettering. Recognised across duplicate package
 * copies by {@link isUnrecoverableError}.
 */
export class UnrecoverableError extends Error {
  /** Dead-letter reason code. */
  readonly code: string;

  constructor(message: string, options: { readonly cause?: unknown; readonly code?: string } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UnrecoverableError';
    this.code = options.code ?? UNRECOVERABLE;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True for an {@link UnrecoverableError}, even one from another copy of `@omnibus/core`. */
export function isUnrecoverableError(value: unknown): value is UnrecoverableError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
