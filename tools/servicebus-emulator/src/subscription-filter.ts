import type { Message } from 'rhea';
import type { EncodedMessage } from './amqp-message.js';
import { amqp } from './rhea-compat.js';

/** A value a filter compares with: what JSON and the SQL subset can express. */
export type FilterValue = string | number | boolean;

/**
 * A Service Bus correlation filter: every condition given must hold (an AND). System
 * properties are compared as strings, application properties (`properties`) by value and type.
 */
export interface CorrelationFilter {
  readonly correlationId?: string;
  readonly messageId?: string;
  readonly to?: string;
  readonly replyTo?: string;
  /** The AMQP `subject` (`Label` in older Service Bus APIs). */
  readonly subject?: string;
  readonly sessionId?: string;
  readonly replyToSessionId?: string;
  readonly contentType?: string;
  /** Application properties that must be present with exactly these values. */
  readonly properties?: Readonly<Record<string, FilterValue>>;
}

/**
 * The filter of a subscription's one rule (Service Bus's `$Default`): a correlation filter, or a
 * SQL expression in the small subset {@link compileSqlFilter} accepts. No filter means every
 * message (Service Bus's `1=1` TrueFilter).
 */
export type SubscriptionFilter =
  { readonly correlationFilter: CorrelationFilter } | { readonly sqlExpression: string };

/** What filters look at in a message. */
export interface FilterView {
  /** System properties by their `sys.` names, lower-cased (`messageid`, `label`, `to`…). */
  readonly system: Readonly<Record<string, string | undefined>>;
  readonly properties: Readonly<Record<string, unknown>>;
}

/** Decides whether a message goes to a subscription. */
export type FilterMatcher = (view: FilterView) => boolean;

const CORRELATION_SYSTEM_FIELDS = {
  correlationId: 'correlationid',
  messageId: 'messageid',
  to: 'to',
  replyTo: 'replyto',
  subject: 'label',
  sessionId: 'sessionid',
  replyToSessionId: 'replytosessionid',
  contentType: 'contenttype',
} as const;

/** `sys.` names the SQL subset accepts (lower-case), as Service Bus names them. */
const SQL_SYSTEM_PROPERTIES = new Set([
  'messageid',
  'correlationid',
  'to',
  'replyto',
  'label',
  'sessionid',
  'replytosessionid',
  'contenttype',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isFilterValue(value: unknown): value is FilterValue {
  return (
    typeof value === 'string' ||
    typeof value === 'boolean' ||
    (typeof value === 'number' && Number.isFinite(value))
  );
}

/**
 * Validates a filter from untrusted JSON (`{ correlationFilter: {...} }` or `{ sqlExpression }`);
 * problems are collected into `problems`, prefixed with `where`.
 */
export function parseSubscriptionFilter(
  value: unknown,
  where: string,
  problems: string[],
): SubscriptionFilter | undefined {
  if (value === undefined || value === null) return undefined;
  const keys = isRecord(value) ? Object.keys(value) : [];
  if (
    !isRecord(value) ||
    keys.length !== 1 ||
    !['correlationFilter', 'sqlExpression'].includes(keys[0] ?? '')
  ) {
    problems.push(`${where} must be { "correlationFilter": {...} } or { "sqlExpression": "..." }`);
    return undefined;
  }
  if ('sqlExpression' in value) {
    const expression = value['sqlExpression'];
    if (typeof expression !== 'string') {
      problems.push(`${where}.sqlExpression must be a string`);
      return undefined;
    }
    try {
      compileSqlFilter(expression);
    } catch (error) {
      problems.push(`${where}.sqlExpression: ${(error as Error).message}`);
      return undefined;
    }
    return { sqlExpression: expression };
  }
  const filter = value['correlationFilter'];
  if (!isRecord(filter)) {
    problems.push(`${where}.correlationFilter must be an object`);
    return undefined;
  }
  const before = problems.length;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(filter)) {
    if (key === 'properties') {
      if (!isRecord(v) || !Object.values(v).every(isFilterValue)) {
        problems.push(`${where}.correlationFilter.properties must map names to strings, numbers or booleans`);
      } else out['properties'] = { ...v };
    } else if (key in CORRELATION_SYSTEM_FIELDS) {
      if (typeof v !== 'string') problems.push(`${where}.correlationFilter.${key} must be a string`);
      else out[key] = v;
    } else {
      problems.push(
        `${where}.correlationFilter.${key} is not supported (use ${[...Object.keys(CORRELATION_SYSTEM_FIELDS), 'properties'].join(', ')})`,
      );
    }
  }
  if (problems.length === before && Object.keys(out).length === 0) {
    problems.push(`${where}.correlationFilter needs at least one condition`);
  }
  return problems.length === before ? { correlationFilter: out } : undefined;
}

/** The matcher of a validated filter; `undefined` accepts everything. Throws on an invalid SQL expression. */
export function compileFilter(filter: SubscriptionFilter | undefined): FilterMatcher {
  if (filter === undefined) return () => true;
  if ('sqlExpression' in filter) return compileSqlFilter(filter.sqlExpression);
  return compileCorrelationFilter(filter.correlationFilter);
}

function compileCorrelationFilter(filter: CorrelationFilter): FilterMatcher {
  const system: Array<readonly [string, string]> = [];
  for (const [key, sysName] of Object.entries(CORRELATION_SYSTEM_FIELDS)) {
    const expected = (filter as Record<string, unknown>)[key];
    if (typeof expected === 'string') system.push([sysName, expected]);
  }
  const properties = Object.entries(filter.properties ?? {});
  return (view) =>
    system.every(([name, expected]) => view.system[name] === expected) &&
    properties.every(([name, expected]) => sameValue(view.properties[name], expected));
}

function sameValue(actual: unknown, expected: FilterValue): boolean {
  if (typeof actual === 'bigint') return typeof expected === 'number' && actual === BigInt(expected);
  return typeof actual === typeof expected && actual === expected;
}

// ---- SQL subset -------------------------------------------------------------------------------

type Operand =
  | { readonly kind: 'property'; readonly scope: 'sys' | 'user'; readonly name: string }
  | { readonly kind: 'constant'; readonly value: FilterValue };

type Token =
  | { readonly type: 'word'; readonly text: string }
  | { readonly type: 'identifier'; readonly text: string }
  | { readonly type: 'string'; readonly text: string }
  | { readonly type: 'number'; readonly value: number }
  | { readonly type: 'operator'; readonly text: '=' | '<>' | '.' };

/** What the emulator's SQL subset accepts, for error messages. */
export const SQL_SUBSET =
  'comparisons `<property> IS [NOT] NULL` and `<operand> = | <> | != <operand>` (properties as name, [name], "name", user.name or sys.Name; constants \'text\', numbers, TRUE, FALSE), joined by AND / OR (AND first); no parentheses, NOT, LIKE, IN, EXISTS or arithmetic';

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`${why} at position ${String(i)} (the emulator supports ${SQL_SUBSET})`);
  };
  while (i < expression.length) {
    const c = expression[i] ?? '';
    if (/\s/.test(c)) {
      i += 1;
    } else if (c === "'" || c === '[' || c === '"') {
      const close = c === '[' ? ']' : c;
      let text = '';
      let j = i + 1;
      for (;;) {
        if (j >= expression.length) fail('unterminated quote or bracket');
        const d = expression[j];
        if (d === close && expression[j + 1] === close) {
          text += close;
          j += 2;
        } else if (d === close) {
          break;
        } else {
          text += d;
          j += 1;
        }
      }
      tokens.push(c === "'" ? { type: 'string', text } : { type: 'identifier', text });
      i = j + 1;
    } else if (/[0-9]/.test(c) || (c === '-' && /[0-9]/.test(expression[i + 1] ?? ''))) {
      const match = /^-?[0-9]+(\.[0-9]+)?/.exec(expression.slice(i)) ?? fail('bad number');
      tokens.push({ type: 'number', value: Number(match[0]) });
      i += match[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(expression.slice(i)) ?? fail('bad word');
      tokens.push({ type: 'word', text: match[0] });
      i += match[0].length;
    } else if (expression.startsWith('<>', i) || expression.startsWith('!=', i)) {
      tokens.push({ type: 'operator', text: '<>' });
      i += 2;
    } else if (c === '=' || c === '.') {
      tokens.push({ type: 'operator', text: c });
      i += 1;
    } else {
      fail(`unsupported character '${c}'`);
    }
  }
  return tokens;
}

/** Three-valued result: `undefined` is SQL's UNKNOWN (a comparison with a missing property). */
type Truth = boolean | undefined;
type Predicate = (view: FilterView) => Truth;

/**
 * Compiles a SQL filter expression in the subset the emulator models (see {@link SQL_SUBSET}),
 * e.g. `[omnibus-retry-subscription] IS NULL OR [omnibus-retry-subscription] = 'billing'`.
 * Keywords and `sys.` names are case-insensitive; user property names and string comparisons
 * are exact. A missing user property makes a comparison UNKNOWN (never a match); values of
 * different types are never equal. Throws, naming the position, on anything else.
 */
export function compileSqlFilter(expression: string): FilterMatcher {
  const tokens = tokenize(expression);
  let pos = 0;
  const peekWord = (word: string): boolean => {
    const t = tokens[pos];
    return t?.type === 'word' && t.text.toUpperCase() === word;
  };
  const fail = (why: string): never => {
    throw new Error(`${why} (token ${String(pos + 1)}; the emulator supports ${SQL_SUBSET})`);
  };
  const operand = (): Operand => {
    const t = tokens[pos];
    if (t === undefined) return fail('expression ends too early');
    pos += 1;
    if (t.type === 'string') return { kind: 'constant', value: t.text };
    if (t.type === 'number') return { kind: 'constant', value: t.value };
    if (t.type === 'identifier') return { kind: 'property', scope: 'user', name: t.text };
    if (t.type !== 'word') return fail(`unexpected '${t.text}'`);
    const upper = t.text.toUpperCase();
    if (upper === 'TRUE' || upper === 'FALSE') return { kind: 'constant', value: upper === 'TRUE' };
    if (['AND', 'OR', 'NOT', 'IS', 'NULL', 'LIKE', 'IN', 'EXISTS'].includes(upper))
      return fail(`unsupported '${t.text}'`);
    const next = tokens[pos];
    if (next?.type === 'operator' && next.text === '.' && (upper === 'SYS' || upper === 'USER')) {
      pos += 1;
      const name = tokens[pos];
      if (name?.type !== 'word' && name?.type !== 'identifier')
        return fail('property name expected after scope');
      pos += 1;
      if (upper === 'USER') return { kind: 'property', scope: 'user', name: name.text };
      if (!SQL_SYSTEM_PROPERTIES.has(name.text.toLowerCase()))
        return fail(`unknown system property sys.${name.text}`);
      return { kind: 'property', scope: 'sys', name: name.text.toLowerCase() };
    }
    return { kind: 'property', scope: 'user', name: t.text };
  };
  const comparison = (): Predicate => {
    const left = operand();
    if (peekWord('IS')) {
      pos += 1;
      const negate = peekWord('NOT');
      if (negate) pos += 1;
      if (!peekWord('NULL')) return fail('NULL expected after IS');
      pos += 1;
      if (left.kind !== 'property') return fail('IS NULL needs a property');
      return (view) => (read(view, left) === undefined) !== negate;
    }
    const op = tokens[pos];
    if (op?.type !== 'operator' || op.text === '.') return fail('=, <> or != expected');
    pos += 1;
    const right = operand();
    const equal = op.text === '=';
    return (view) => {
      const a = read(view, left);
      const b = read(view, right);
      if (a === undefined || b === undefined) return undefined;
      return sameOperandValue(a, b) === equal;
    };
  };
  const conjunction = (): Predicate => {
    const parts = [comparison()];
    while (peekWord('AND')) {
      pos += 1;
      parts.push(comparison());
    }
    if (parts.length === 1) return parts[0] as Predicate;
    return (view) => {
      let result: Truth = true;
      for (const p of parts) {
        const r = p(view);
        if (r === false) return false;
        if (r === undefined) result = undefined;
      }
      return result;
    };
  };
  const disjunction = (): Predicate => {
    const parts = [conjunction()];
    while (peekWord('OR')) {
      pos += 1;
      parts.push(conjunction());
    }
    if (parts.length === 1) return parts[0] as Predicate;
    return (view) => {
      let result: Truth = false;
      for (const p of parts) {
        const r = p(view);
        if (r === true) return true;
        if (r === undefined) result = undefined;
      }
      return result;
    };
  };
  if (tokens.length === 0) fail('empty expression');
  const predicate = disjunction();
  if (pos < tokens.length) fail('unexpected text after the expression');
  return (view) => predicate(view) === true;
}

function read(view: FilterView, operand: Operand): unknown {
  if (operand.kind === 'constant') return operand.value;
  const value = operand.scope === 'sys' ? view.system[operand.name] : view.properties[operand.name];
  return value === null ? undefined : value;
}

function sameOperandValue(a: unknown, b: unknown): boolean {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    try {
      return BigInt(a as number) === BigInt(b as number);
    } catch {
      return false;
    }
  }
  return typeof a === typeof b && a === b;
}

// ---- the message as filters see it ----------------------------------------------------------

function idText(value: unknown): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (Buffer.isBuffer(value)) return value.toString('hex');
  return typeof value === 'string' || typeof value === 'number' || typeof value === 'bigint'
    ? String(value)
    : undefined;
}

/** The properties filters read, decoded from the message's stored bytes. */
export function filterViewOf(message: EncodedMessage): FilterView {
  const decoded = amqp.message.decode(message.raw) as unknown as Message;
  const text = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);
  return {
    system: {
      messageid: idText(decoded.message_id),
      correlationid: idText(decoded.correlation_id),
      to: text(decoded.to),
      replyto: text(decoded.reply_to),
      label: text(decoded.subject),
      sessionid: text(decoded.group_id),
      replytosessionid: text(decoded.reply_to_group_id),
      contenttype: text(decoded.content_type),
    },
    properties: (decoded.application_properties ?? {}) as Record<string, unknown>,
  };
}
