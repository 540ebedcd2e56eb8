/** Structured fields attached to a log line. */
export type LogFields = Readonly<Record<string, unknown>>;

/**
 * The logging port. Implementations must not throw and must be safe to call concurrently;
 * Omnibus passes no secrets in fields (options are redacted before logging), and
 * {@link ConsoleLogger} redacts again defensively.
 */
export interface Logger {
  /** Detail for troubleshooting; usually off in production. */
  debug(message: string, fields?: LogFields): void;
  /** A normal event worth recording (started, stopped, reconnected). */
  info(message: string, fields?: LogFields): void;
  /** Something unexpected the bus recovered from. */
  warn(message: string, fields?: LogFields): void;
  /** A failure that needs attention. */
  error(message: string, fields?: LogFields): void;
}

/** A logger that discards everything: the default. */
export const noopLogger: Logger = Object.freeze({
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
});
