import type { ErrorCode } from './error-codes.js';

const BRAND = Symbol.for('omnibus.error');

/** Options for {@link OmnibusError}. */
export interface OmnibusErrorOptions {
  /** True when the same operation may succeed if tried again (e.g. broker briefly down). */
  readonly retriable?: boolean;
  /** The underlying error (SDK error, validation issues…). */
  readonly cause?: unknown;
}

/**
 * Base class of every error Omnibus throws. Check with {@link isOmnibusError}, which works
 * across duplicate copies of `@omnibus/core` in one process (it tests a `Symbol.for` brand,
 * not `instanceof`).
 */
export class OmnibusError extends Error {
  /** Stable, machine-readable code. */
  readonly code: ErrorCode;
  /** Whether retrying the same operation may succeed. */
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: OmnibusErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
    Object.defineProperty(this, BRAND, { value: true });
  }
}

/** True for any {@link OmnibusError}, even one thrown by another copy of this package. */
export function isOmnibusError(value: unknown): value is OmnibusError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[BRAND] === true;
}
