import { redactUrl } from '../config/option-schema.js';
import type { LogFields, Logger } from './logger.js';

/** Log levels, lowest first. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const LEVELS: readonly LogLevel[] = ['debug', 'info', 'warn', 'error'];
const SECRET_KEY =
  /pass(word)?|secret|token|credential|authorization|api[-_]?key|access[-_]?key|private[-_]?key|connection[-_]?string|sas/i;

/** Options of {@link ConsoleLogger}. */
export interface ConsoleLoggerOptions {
  /** Lowest level written. Default `info`. */
  readonly level?: LogLevel;
  /** Where lines go. Default: `console.error` for warn/error, `console.log` otherwise. */
  readonly write?: (level: LogLevel, line: string) => void;
}

/**
 * Writes one JSON line per entry (`{level, time, message, ...fields}`). Field values whose key
 * looks secret (password, token, secret, connection string…) become `***`, and passwords in
 * URLs are masked, at any depth. Never throws (unserialisable fields are replaced).
 */
export class ConsoleLogger implements Logger {
  readonly #min: number;
  readonly #write: (level: LogLevel, line: string) => void;

  constructor(options: ConsoleLoggerOptions = {}) {
    this.#min = LEVELS.indexOf(options.level ?? 'info');
    this.#write =
      options.write ??
      ((level, line) => (level === 'warn' || level === 'error' ? console.error(line) : console.log(line)));
  }

  /** Write a `debug` line when the level allows it. */
  debug(message: string, fields?: LogFields): void {
    this.#log('debug', message, fields);
  }
  /** Write an `info` line when the level allows it. */
  info(message: string, fields?: LogFields): void {
    this.#log('info', message, fields);
  }
  /** Write a `warn` line (stderr by default). */
  warn(message: string, fields?: LogFields): void {
    this.#log('warn', message, fields);
  }
  /** Write an `error` line (stderr by default). */
  error(message: string, fields?: LogFields): void {
    this.#log('error', message, fields);
  }

  #log(level: LogLevel, message: string, fields: LogFields | undefined): void {
    if (LEVELS.indexOf(level) < this.#min) return;
    let line: string;
    try {
      line = JSON.stringify({
        level,
        time: new Date().toISOString(),
        message: redactUrl(message),
        ...(redactSecrets(fields ?? {}) as object),
      });
    } catch {
      line = JSON.stringify({
        level,
        time: new Date().toISOString(),
        message: redactUrl(message),
        fields: '[unserialisable]',
      });
    }
    try {
      this.#write(level, line);
    } catch {
      // A logger must never break delivery.
    }
  }
}

/** Deep copy with secret-looking keys replaced by `***` and URL passwords masked. Pure. */
export function redactSecrets(value: unknown, depth = 0): unknown {
  if (depth > 8) return '[too deep]';
  if (typeof value === 'string') return redactUrl(value);
  if (value instanceof Error)
    return {
      name: value.name,
      message: redactUrl(value.message),
      ...('code' in value ? { code: value.code } : {}),
    };
  if (Array.isArray(value)) return value.map((v: unknown) => redactSecrets(v, depth + 1));
  if (value instanceof Date || value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? '***' : redactSecrets(inner, depth + 1);
  }
  return out;
}
