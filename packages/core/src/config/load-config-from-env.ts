import { readFileSync } from 'node:fs';
import { ConfigurationError, type ConfigurationProblem } from '../errors/configuration-error.js';
import { ErrorCodes } from '../errors/error-codes.js';
import type { HandlerDefaults } from '../handler/resolve-handler-options.js';
import { transportEnvPrefix, type TransportSelection } from './transport-selection.js';

/** What {@link loadConfigFromEnv} returns: spread it into `createEventBus({...})`. */
export interface EnvironmentConfig {
  readonly transport: TransportSelection;
  readonly defaults?: HandlerDefaults;
}

/**
 * Read the transport selection from the environment:
 * - `OMNIBUS_CONFIG_FILE`: a JSON file `{ "transport": "name" | { "name", "options" }, "defaults"? }`;
 * - `OMNIBUS_TRANSPORT`: the transport name (overrides the file; default `in-memory`);
 * - `OMNIBUS_<NAME>_<OPTION>`: options of that transport, SCREAMING_SNAKE → camelCase
 *   (`OMNIBUS_RABBITMQ_PREFETCH_COUNT` → `prefetchCount`), overriding the file's.
 * Values stay strings; the provider's option schema coerces them at start. Synchronous.
 * @throws ConfigurationError when the file cannot be read or is not valid JSON of that shape.
 */
export function loadConfigFromEnv(
  env: Readonly<Record<string, string | undefined>> = process.env,
): EnvironmentConfig {
  const problems: ConfigurationProblem[] = [];
  const file = env['OMNIBUS_CONFIG_FILE'];
  let fromFile: { transport?: TransportSelection; defaults?: HandlerDefaults } = {};
  if (file !== undefined && file !== '') fromFile = readConfigFile(file, problems);
  const name = nonEmpty(env['OMNIBUS_TRANSPORT']) ?? fromFile.transport?.name ?? 'in-memory';
  const options: Record<string, unknown> =
    fromFile.transport?.name === name ? { ...(fromFile.transport.options ?? {}) } : {};
  const prefix = transportEnvPrefix(name);
  for (const [key, value] of Object.entries(env)) {
    if (!key.startsWith(prefix) || value === undefined) continue;
    const option = key
      .slice(prefix.length)
      .toLowerCase()
      .replace(/_+([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    if (option !== '') options[option] = value;
  }
  if (problems.length > 0) throw new ConfigurationError(problems);
  return {
    transport: { name, options },
    ...(fromFile.defaults === undefined ? {} : { defaults: fromFile.defaults }),
  };
}

function readConfigFile(
  path: string,
  problems: ConfigurationProblem[],
): { transport?: TransportSelection; defaults?: HandlerDefaults } {
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
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    problems.push({
      code: ErrorCodes.CONFIGURATION_INVALID,
      problem: `OMNIBUS_CONFIG_FILE ${path} does not hold a JSON object`,
      fix,
    });
    return {};
  }
  const record = parsed as Record<string, unknown>;
  const out: { transport?: TransportSelection; defaults?: HandlerDefaults } = {};
  const transport = record['transport'];
  if (typeof transport === 'string') out.transport = { name: transport };
  else if (
    typeof transport === 'object' &&
    transport !== null &&
    typeof (transport as { name?: unknown }).name === 'string'
  ) {
    const options = (transport as { options?: unknown }).options;
    if (
      options !== undefined &&
      (typeof options !== 'object' || options === null || Array.isArray(options))
    ) {
      problems.push({
        code: ErrorCodes.CONFIGURATION_INVALID,
        problem: `OMNIBUS_CONFIG_FILE ${path}: transport.options must be an object`,
        fix,
      });
    }
    out.transport = {
      name: (transport as { name: string }).name,
      ...(typeof options === 'object' && options !== null
        ? { options: options as Record<string, unknown> }
        : {}),
    };
  } else if (transport !== undefined) {
    problems.push({
      code: ErrorCodes.CONFIGURATION_INVALID,
      problem: `OMNIBUS_CONFIG_FILE ${path}: transport must be a name or { name, options }`,
      fix,
    });
  }
  const defaults = record['defaults'];
  if (typeof defaults === 'object' && defaults !== null) out.defaults = defaults;
  return out;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}
