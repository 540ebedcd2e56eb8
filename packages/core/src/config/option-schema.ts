/** One option's declaration in an {@link OptionSchema}. */
export type OptionSpec =
  | {
      readonly type: 'string';
      readonly required?: boolean;
      readonly default?: string;
      readonly secret?: boolean;
      readonly oneOf?: readonly string[];
      readonly description: string;
    }
  | {
      readonly type: 'integer';
      readonly required?: boolean;
      readonly default?: number;
      readonly min?: number;
      readonly max?: number;
      readonly description: string;
    }
  | {
      readonly type: 'boolean';
      readonly required?: boolean;
      readonly default?: boolean;
      readonly description: string;
    }
  | {
      readonly type: 'string[]';
      readonly required?: boolean;
      readonly default?: readonly string[];
      readonly description: string;
    }
  | {
      readonly type: 'integer[]';
      readonly required?: boolean;
      readonly default?: readonly number[];
      readonly description: string;
    };

/** Declaration of a transport's options: name → spec. Drives validation, env parsing and docs. */
export type OptionSchema = Readonly<Record<string, OptionSpec>>;

/** The parsed value type of one {@link OptionSpec}. */
type ValueOf<S extends OptionSpec> = S extends { type: 'string' }
  ? string
  : S extends { type: 'integer' }
    ? number
    : S extends { type: 'boolean' }
      ? boolean
      : S extends { type: 'string[]' }
        ? readonly string[]
        : readonly number[];

type HasValue<S extends OptionSpec> = S extends { required: true }
  ? true
  : S extends { default: unknown }
    ? true
    : false;

/** The options object an {@link OptionSchema} parses into. */
export type ParsedOptions<T extends OptionSchema> = {
  readonly [K in keyof T as HasValue<T[K]> extends true ? K : never]: ValueOf<T[K]>;
} & {
  readonly [K in keyof T as HasValue<T[K]> extends true ? never : K]?: ValueOf<T[K]>;
};

/** Outcome of {@link parseOptions}: the options, or every problem found. */
export type ParseOptionsResult<T> =
  { readonly ok: true; readonly options: T } | { readonly ok: false; readonly issues: readonly string[] };

/**
 * Validate raw options (from an object, environment variables or JSON) against a schema.
 * Strings are coerced for integers (`"10"`), booleans (`"true"`/`"false"`) and lists
 * (comma-separated), so environment variables work. Collects *every* problem, never stops at
 * the first; unknown keys are problems too (they are usually typos).
 */
export function parseOptions<T extends OptionSchema>(
  schema: T,
  raw: Readonly<Record<string, unknown>>,
  path = 'options',
): ParseOptionsResult<ParsedOptions<T>> {
  const issues: string[] = [];
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(raw)) {
    if (!(key in schema)) {
      issues.push(`${path}.${key} is not a known option (known: ${Object.keys(schema).join(', ')})`);
    }
  }
  for (const [key, spec] of Object.entries(schema)) {
    const value = raw[key];
    if (value === undefined || value === '') {
      if (spec.default !== undefined) out[key] = spec.default;
      else if (spec.required === true) issues.push(`${path}.${key} is required: ${spec.description}`);
      continue;
    }
    const parsed = coerce(spec, value);
    if (typeof parsed === 'string' && parsed.startsWith('!')) {
      issues.push(`${path}.${key} ${parsed.slice(1)}`);
    } else {
      out[key] = parsed;
    }
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, options: out as ParsedOptions<T> };
}

function coerce(spec: OptionSpec, value: unknown): unknown {
  switch (spec.type) {
    case 'string': {
      if (typeof value !== 'string') return `!must be a string, got ${describe(value)}`;
      if (spec.oneOf !== undefined && !spec.oneOf.includes(value)) {
        return `!must be one of ${spec.oneOf.join(', ')}, got "${value}"`;
      }
      return value;
    }
    case 'integer': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isInteger(n)) return `!must be an integer, got ${describe(value)}`;
      if (spec.min !== undefined && n < spec.min) return `!must be ≥ ${String(spec.min)}, got ${String(n)}`;
      if (spec.max !== undefined && n > spec.max) return `!must be ≤ ${String(spec.max)}, got ${String(n)}`;
      return n;
    }
    case 'boolean': {
      if (value === 'true' || value === true) return true;
      if (value === 'false' || value === false) return false;
      return `!must be a boolean, got ${describe(value)}`;
    }
    case 'string[]': {
      const list = typeof value === 'string' ? value.split(',').map((s) => s.trim()) : value;
      if (!Array.isArray(list) || !list.every((s) => typeof s === 'string' && s !== '')) {
        return `!must be a list of non-empty strings, got ${describe(value)}`;
      }
      return list;
    }
    case 'integer[]': {
      const list = typeof value === 'string' ? value.split(',').map((s) => Number(s.trim())) : value;
      if (
        !Array.isArray(list) ||
        !list.every((n) => typeof n === 'number' && Number.isInteger(n) && n >= 0)
      ) {
        return `!must be a list of non-negative integers, got ${describe(value)}`;
      }
      return list;
    }
  }
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `"${value}"`;
  if (Array.isArray(value)) return 'an array';
  return value === null ? 'null' : typeof value;
}

/**
 * Copy of `options` with every `secret` option (and every URL's password) replaced by `***`,
 * for logs and error messages. Credentials are never logged.
 */
export function redactOptions(
  schema: OptionSchema,
  options: Readonly<Record<string, unknown>>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(options)) {
    const spec = schema[key];
    if (spec?.type === 'string' && spec.secret === true) out[key] = '***';
    else if (typeof value === 'string') out[key] = redactUrl(value);
    else if (Array.isArray(value))
      out[key] = value.map((v: unknown) => (typeof v === 'string' ? redactUrl(v) : v));
    else out[key] = value;
  }
  return out;
}

/** `amqp://user:secret@host` → `amqp://user:***@host`; other strings unchanged. */
export function redactUrl(value: string): string {
  return value.replace(/(\w+:\/\/[^:/@\s]+:)([^@\s]+)(@)/g, '$1***$3');
}
