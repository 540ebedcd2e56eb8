import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A usage mistake (unknown option, missing value): exit code 2 with the message. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Options every command accepts. */
export const COMMON_OPTIONS = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies Options;

/** `parseArgs` in strict mode; its errors become {@link UsageError}s. */
export function parse<T extends Options>(
  args: readonly string[],
  options: T,
): {
  values: {
    [K in keyof T]?: T[K] extends { type: 'boolean' }
      ? boolean
      : T[K] extends { multiple: true }
        ? string[]
        : string;
  };
  positionals: string[];
} {
  try {
    const parsed = parseArgs({ args: [...args], options, strict: true, allowPositionals: true });
    return parsed;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

/** A required string option, or a {@link UsageError} naming it. */
export function required(value: string | undefined, name: string): string {
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

/** A date option (ISO-8601 or anything `Date.parse` reads), or a {@link UsageError}. */
export function dateOption(value: string | undefined, name: string): Date | undefined {
  if (value === undefined) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new UsageError(`--${name} must be a date (ISO-8601), got "${value}"`);
  return new Date(time);
}

/** A positive integer option, or a {@link UsageError}. */
export function intOption(value: string | undefined, name: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1)
    throw new UsageError(`--${name} must be a positive integer, got "${value}"`);
  return n;
}
