import { readFileSync } from 'node:fs';
import { ConfigurationError, type ConfigurationProblem } from '../errors/configuration-error.js';
import { ErrorCodes } from '../errors/error-codes.js';
import type { HandlerDefaults } from '../handler/resolve-handler-options.js';
import { transportEnvPrefix, type TransportSelection } from './transport-selection.js';

/** What {@link loadConfigFromEnv} returns: spread it into `createEventBus({...})`. */
export interface EnvironmentConfig {
  /** The (default) transport; absent only when `transports` are configured and no default is. */
  readonly transport?: TransportSelection;
  /** Several transports by alias (see `EventBusConfig.transports`). */
  readonly transports?: Readonly<Record<string, TransportSelection>>;
  /** Event name or destination → transport alias (see `EventBusConfig.routes`). */
  readonly routes?: Readonly<Record<string, string>>;
  readonly defaults?: HandlerDefaults;
}

interface FileConfig {
  transport?: TransportSelection;
  transports?: Record<string, TransportSelection>;
  routes?: Record<string, string>;
  defaults?: HandlerDefaults;
}

/**
 * Read the transport selection from the environment:
 * - `OMNIBUS_CONFIG_FILE`: a JSON file `{ "transport": "name" | { "name", "options" }, "defaults"? }`,
 *   optionally with `"transports": { "<alias>": "name" | { "name", "options" } }` and
 *   `"routes": { "<event name or destination>": "<alias>" }` for several transports in one bus;
 * - `OMNIBUS_TRANSPORT`: the transport name (overrides the file; default `in-memory`, except
 *   when several transports are configured: then there is no default unless set);
 * - `OMNIBUS_<NAME>_<OPTION>`: options of that transport, SCREAMING_SNAKE → camelCase
 *   (`OMNIBUS_RABBITMQ_PREFETCH_COUNT` → `prefetchCount`), overriding the file's;
 * - `OMNIBUS_TRANSPORTS`: `alias:name` pairs, comma-separated (`stream:kafka,work:rabbitmq`),
 *   overriding the file's transport of that alias;
 * - `OMNIBUS_TRANSPORTS_<ALIAS>_<OPTION>`: an option of the transport of that alias;
 * - `OMNIBUS_ROUTES`: `event=alias` pairs, comma-separated (`shop.order-placed.v1=stream`),
 *   added to (and overriding) the file's routes;
 * - the `migration` transport (`OMNIBUS_TRANSPORT=migration`, or an alias of that name):
 *   `OMNIBUS_MIGRATION_FROM`, `_TO` (an alias of `transports` or a transport name),
 *   `_PHASE`, `_CLAIMS`, `_CLAIMS_URL`…; a side named by transport name takes the options of
 *   `OMNIBUS_<NAME>_*`, overridden by `OMNIBUS_MIGRATION_FROM_<OPTION>` / `_TO_<OPTION>` (for an
 *   alias: `OMNIBUS_TRANSPORTS_<ALIAS>_FROM`, `_FROM_<OPTION>`, …).
 * Values stay strings; the provider's option schema coerces them at start. Synchronous.
 * @throws ConfigurationError when the file cannot be read or is not valid JSON of that shape,
 * or a list variable is malformed.
 */
export function loadConfigFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): EnvironmentConfig {
  const problems: ConfigurationProblem[] = [];
  const file = env['OMNIBUS_CONFIG_FILE'];
  let fromFile: FileConfig = {};
  if (file !== undefined && file !== '') fromFile = readConfigFile(file, problems);
  const transports = readTransports(env, fromFile.transports ?? {}, problems);
  const routes = { ...(fromFile.routes ?? {}), ...readPairs(env, 'OMNIBUS_ROUTES', '=', problems) };
  const several = Object.keys(transports).length > 0;
  const chosen = nonEmpty(env['OMNIBUS_TRANSPORT']) ?? fromFile.transport?.name;
  if (problems.length > 0) throw new ConfigurationError(problems);
  const name = chosen ?? (several ? undefined : 'in-memory');
  const transport =
    name === undefined
      ? undefined
      : withMigrationSides(
          env,
          {
            name,
            options: envOptions(
              env,
              transportEnvPrefix(name),
              migrationSidePrefixes(name, transportEnvPrefix(name)),
              {
                ...(fromFile.transport?.name === name ? (fromFile.transport.options ?? {}) : {}),
              },
            ),
          },
          transportEnvPrefix(name),
          transports,
          problems,
        );
  for (const [alias, selection] of Object.entries(transports))
    transports[alias] = withMigrationSides(env, selection, aliasEnvPrefix(alias), transports, problems);
  if (problems.length > 0) throw new ConfigurationError(problems);
  return {
    ...(transport === undefined ? {} : { transport }),
    ...(several ? { transports, routes } : Object.keys(routes).length > 0 ? { routes } : {}),
    ...(fromFile.defaults === undefined ? {} : { defaults: fromFile.defaults }),
  };
}

/** The file's transports, overridden by `OMNIBUS_TRANSPORTS`, with each alias's `OMNIBUS_TRANSPORTS_<ALIAS>_*` options. */
function readTransports(
  env: Readonly<Record<string, string | undefined>>,
  fromFile: Readonly<Record<string, TransportSelection>>,
  problems: ConfigurationProblem[],
): Record<string, TransportSelection> {
  const names = {
    ...Object.fromEntries(Object.entries(fromFile).map(([alias, s]) => [alias, s.name])),
    ...readPairs(env, 'OMNIBUS_TRANSPORTS', ':', problems),
  };
  const aliases = Object.keys(names);
  const out: Record<string, TransportSelection> = {};
  for (const [alias, name] of Object.entries(names)) {
    const prefix = aliasEnvPrefix(alias);
    // A longer alias sharing this prefix (`a` and `a-b`) owns its own variables.
    const others = aliases
      .filter((a) => a !== alias && aliasEnvPrefix(a).startsWith(prefix))
      .map(aliasEnvPrefix);
    const fileOptions = fromFile[alias]?.name === name ? (fromFile[alias].options ?? {}) : {};
    out[alias] = {
      name,
      options: envOptions(env, prefix, [...others, ...migrationSidePrefixes(name, prefix)], {
        ...fileOptions,
      }),
    };
  }
  return out;
}

/** The prefixes of a migration's side options (`<prefix>FROM_`, `<prefix>TO_`); none for other transports. Pure. */
function migrationSidePrefixes(name: string, prefix: string): string[] {
  return name === 'migration' ? [`${prefix}FROM_`, `${prefix}TO_`] : [];
}

/**
 * A `migration` selection with its `from` and `to` completed from the environment: a side that
 * names an alias of `transports` stays that alias; otherwise it becomes `{ name, options }` with
 * the options of the file, then `OMNIBUS_<NAME>_*`, then `<prefix>FROM_*` / `<prefix>TO_*`.
 * Other selections are returned unchanged.
 */
function withMigrationSides(
  env: Readonly<Record<string, string | undefined>>,
  selection: TransportSelection,
  prefix: string,
  transports: Readonly<Record<string, TransportSelection>>,
  problems: ConfigurationProblem[],
): TransportSelection {
  if (selection.name !== 'migration') return selection;
  const options: Record<string, unknown> = { ...(selection.options ?? {}) };
  for (const side of ['from', 'to'] as const) {
    const value = options[side];
    const sidePrefix = `${prefix}${side.toUpperCase()}_`;
    const own = envOptions(env, sidePrefix, [], {});
    if (typeof value === 'string' && value in transports) {
      const [first] = Object.keys(own);
      if (first !== undefined)
        problems.push({
          code: ErrorCodes.CONFIGURATION_INVALID,
          problem: `${sidePrefix}* is set but the migration's ${side} is the transport alias "${value}"`,
          fix: `set the options of that alias instead (${aliasEnvPrefix(value)}<OPTION>), or name a transport in ${prefix}${side.toUpperCase()}`,
        });
      continue;
    }
    const base =
      typeof value === 'string'
        ? { name: value, options: {} }
        : isRecord(value) && typeof value['name'] === 'string'
          ? { name: value['name'], options: isRecord(value['options']) ? value['options'] : {} }
          : undefined;
    if (base === undefined) continue; // missing or malformed: reported when the bus is built
    options[side] = {
      name: base.name,
      options: { ...envOptions(env, transportEnvPrefix(base.name), [], { ...base.options }), ...own },
    };
  }
  return { name: selection.name, options };
}

/** `OMNIBUS_TRANSPORTS_<ALIAS>_`: the environment prefix of a transport alias's options. Pure. */
function aliasEnvPrefix(alias: string): string {
  return `OMNIBUS_TRANSPORTS_${alias.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_`;
}

/** Add the options found under `prefix` (but not under any of `excluded`) to `options`. */
function envOptions(
  env: Readonly<Record<string, string | undefined>>,
  prefix: string,
  excluded: readonly string[],
  options: Record<string, unknown>,
): Record<string, unknown> {
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(prefix) || value === undefined || excluded.some((e) => key.startsWith(e))) continue;
    const option = key
      .slice(prefix.length)
      .toLowerCase()
      .replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    if (option !== '') options[option] = value;
  }
  return options;
}

/** `a:b,c:d` (with `separator` `:`) → `{ a: 'b', c: 'd' }`; a malformed pair is a problem. */
function readPairs(
  env: Readonly<Record<string, string | undefined>>,
  variable: string,
  separator: string,
  problems: ConfigurationProblem[],
): Record<string, string> {
  const out: Record<string, string> = {};
  const value = nonEmpty(env[variable]);
  if (value === undefined) return out;
  for (const pair of value.split(',').map((p) => p.trim())) {
    const at = pair.lastIndexOf(separator);
    const key = pair.slice(0, at).trim();
    const target = pair.slice(at + 1).trim();
    if (at <= 0 || key === '' || target === '') {
      problems.push({
        code: ErrorCodes.CONFIGURATION_INVALID,
        problem: `${variable}: "${pair}" is not of the form key${separator}value`,
        fix:
          variable === 'OMNIBUS_ROUTES'
            ? 'set OMNIBUS_ROUTES=<event name>=<transport alias>,... (e.g. shop.order-placed.v1=stream)'
            : 'set OMNIBUS_TRANSPORTS=<alias>:<transport name>,... (e.g. stream:kafka,work:rabbitmq)',
      });
      continue;
    }
    out[key] = target;
  }
  return out;
}

function readConfigFile(path: string, problems: ConfigurationProblem[]): FileConfig {
  const fix =
    'point OMNIBUS_CONFIG_FILE at a readable JSON file like {"transport":{"name":"rabbitmq","options":{"url":"amqp://localhost"}}}';
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    problems.push({
      code: ErrorCodes.CONFIGURATION_INVALID,
      problem: `OMNIBUS_CONFIG_FILE ${path}: ${error instanceof Error ? error.message : String(error)}`,
      fix,
    });
    return {};
  }
  if (!isRecord(parsed)) {
    problems.push({
      code: ErrorCodes.CONFIGURATION_INVALID,
      problem: `OMNIBUS_CONFIG_FILE ${path} does not hold a JSON object`,
      fix,
    });
    return {};
  }
  const problem = (text: string, ownFix = fix): void => {
    problems.push({
      code: ErrorCodes.CONFIGURATION_INVALID,
      problem: `OMNIBUS_CONFIG_FILE ${path}: ${text}`,
      fix: ownFix,
    });
  };
  const out: FileConfig = {};
  const transport = readSelection(parsed['transport'], 'transport', problem);
  if (transport !== undefined) out.transport = transport;
  const transports = parsed['transports'];
  if (isRecord(transports)) {
    out.transports = {};
    for (const [alias, value] of Object.entries(transports)) {
      const selection = readSelection(value, `transports.${alias}`, problem);
      if (selection !== undefined) out.transports[alias] = selection;
    }
  } else if (transports !== undefined)
    problem(
      'transports must be an object of alias → name or { name, options }',
      '{"transports":{"stream":"kafka","work":{"name":"rabbitmq"}}}',
    );
  const routes = parsed['routes'];
  if (isRecord(routes)) {
    out.routes = {};
    for (const [key, alias] of Object.entries(routes)) {
      if (typeof alias === 'string') out.routes[key] = alias;
      else
        problem(
          `routes["${key}"] must be a transport alias (a string)`,
          '{"routes":{"shop.order-placed.v1":"stream"}}',
        );
    }
  } else if (routes !== undefined)
    problem(
      'routes must be an object of event name → transport alias',
      '{"routes":{"shop.order-placed.v1":"stream"}}',
    );
  const defaults = parsed['defaults'];
  if (typeof defaults === 'object' && defaults !== null) out.defaults = defaults;
  return out;
}

/** A `"name"` or `{ "name", "options"? }` value of the file; problems reported, `undefined` when absent or invalid. */
function readSelection(
  value: unknown,
  where: string,
  problem: (text: string) => void,
): TransportSelection | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return { name: value };
  if (!isRecord(value) || typeof value['name'] !== 'string') {
    problem(`${where} must be a name or { name, options }`);
    return undefined;
  }
  const options = value['options'];
  if (options !== undefined && !isRecord(options)) problem(`${where}.options must be an object`);
  return { name: value['name'], ...(isRecord(options) ? { options } : {}) };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
