import { redactSecrets } from './console-logger.js';
import type { LogFields, Logger } from './logger.js';

/** One pino log method: `(fields, message)`. */
export type PinoLogFn = (fields: object, message?: string) => void;

/** The part of a pino logger Omnibus uses (pino ≥ 7, or anything with the same call shape). */
export interface PinoLike {
  debug: PinoLogFn;
  info: PinoLogFn;
  warn: PinoLogFn;
  error: PinoLogFn;
  /** Present on pino loggers; used to recognise one passed as the bus `logger`. */
  child: (bindings: Record<string, unknown>) => unknown;
  /** Present on pino loggers (`{ values, labels }`). */
  levels: { readonly values: Readonly<Record<string, number>> };
}

/**
 * Adapt a pino logger to the {@link Logger} port: Omnibus's `(message, fields)` becomes pino's
 * `(fields, message)`, with secret-looking fields replaced by `***` and URL passwords masked
 * (same rules as {@link ConsoleLogger}) before pino sees them. Never throws.
 */
export function pinoLogger(pino: PinoLike): Logger {
  const write = (method: PinoLogFn, message: string, fields: LogFields | undefined): void => {
    try {
      method.call(pino, (redactSecrets(fields ?? {}) as object) ?? {}, message);
    } catch {
      // A logger must never break delivery.
    }
  };
  return {
    debug: (message, fields) => write(pino.debug, message, fields),
    info: (message, fields) => write(pino.info, message, fields),
    warn: (message, fields) => write(pino.warn, message, fields),
    error: (message, fields) => write(pino.error, message, fields),
  };
}

/** True for a pino logger (or one shaped like it): log methods plus `child` and `levels.values`. */
export function isPinoLike(value: unknown): value is PinoLike {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<PinoLike>;
  return (
    typeof candidate.info === 'function' &&
    typeof candidate.child === 'function' &&
    typeof candidate.levels === 'object' &&
    candidate.levels !== null &&
    typeof candidate.levels.values === 'object'
  );
}

/**
 * The bus's logger from its `logger` option: a pino logger is wrapped with {@link pinoLogger}
 * (its argument order differs), anything else is used as the {@link Logger} it is.
 */
export function toLogger(value: Logger | PinoLike): Logger {
  return isPinoLike(value) ? pinoLogger(value) : value;
}
