import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigurationError, ErrorCodes, loadConfigFromEnv, type EventBusConfig } from '@omnibus/core';

/** The application's bus configuration as the CLI found it. */
export interface LoadedAppConfig {
  readonly config: EventBusConfig;
  /** Where it came from, for reports: `environment`, a JSON file or a module path. */
  readonly source: string;
}

const MODULE_EXTENSIONS = new Set(['.js', '.mjs', '.cjs']);

/**
 * Load the bus configuration the way the application does:
 * - no `--config`: the environment (`OMNIBUS_TRANSPORT`, `OMNIBUS_<NAME>_<OPTION>`, `OMNIBUS_CONFIG_FILE`);
 * - `--config <file>.json`: that file as `OMNIBUS_CONFIG_FILE` (environment variables still override it);
 * - `--config <module>.js`: a module exporting `config` (an `EventBusConfig`, or a function
 *   returning one, possibly async) with the handlers and events; a config without `transport`
 *   takes the environment's selection, as `createEventBus({ ...loadConfigFromEnv(), ... })` does.
 * @throws ConfigurationError naming the file and the fix when it cannot be loaded.
 */
export async function loadAppConfig(
  configPath: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
  cwd: string,
): Promise<LoadedAppConfig> {
  if (configPath === undefined) return { config: loadConfigFromEnv(env), source: 'environment' };
  const absolute = path.resolve(cwd, configPath);
  const extension = path.extname(absolute);
  if (extension === '.json')
    return { config: loadConfigFromEnv({ ...env, OMNIBUS_CONFIG_FILE: absolute }), source: configPath };
  if (!MODULE_EXTENSIONS.has(extension))
    throw invalid(`--config ${configPath}: expected a .json file or a .js/.mjs module`);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    throw invalid(
      `--config ${configPath} could not be imported: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  const exported = module['config'];
  const value: unknown = typeof exported === 'function' ? await (exported as () => unknown)() : exported;
  if (typeof value !== 'object' || value === null)
    throw invalid(
      `--config ${configPath} has no \`config\` export (an EventBusConfig or a function returning one)`,
    );
  const config = value as EventBusConfig;
  return {
    config: config.transport === undefined ? { ...loadConfigFromEnv(env), ...config } : config,
    source: configPath,
  };
}

function invalid(problem: string): ConfigurationError {
  return new ConfigurationError([
    {
      code: ErrorCodes.CONFIGURATION_INVALID,
      problem,
      fix: 'export const config = { handlers: [...], events: [...] } from a compiled ES module, or pass a JSON file of { "transport": ... }',
    },
  ]);
}
