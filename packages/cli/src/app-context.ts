import {
  ConfigurationError,
  ErrorCodes,
  OmnibusError,
  buildTopology,
  isOmnibusError,
  prepareBus,
  type PreparedBus,
  type TopologySpec,
  type Transport,
} from '@omnibus/core';
import type { CliIo } from './cli-io.js';
import { loadAppConfig, type LoadedAppConfig } from './load-app-config.js';

/** A loaded, validated application configuration (the transport created, not connected). */
export interface AppContext {
  readonly loaded: LoadedAppConfig;
  readonly prepared: PreparedBus;
  readonly topology: TopologySpec;
}

/** Load and validate the application's configuration. @throws ConfigurationError with every problem. */
export async function prepareApp(configPath: string | undefined, io: CliIo): Promise<AppContext> {
  const loaded = await loadAppConfig(configPath, io.env, io.cwd);
  const prepared = await prepareBus(loaded.config);
  return { loaded, prepared, topology: buildTopology(prepared.events.all(), prepared.registrations) };
}

/** Connect, rejecting after `timeoutMs` (the transport keeps trying in the background until closed). */
export async function connectWithin(transport: Transport, timeoutMs: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      transport.connect(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new OmnibusError(
                ErrorCodes.CONNECTION_FAILED,
                `could not connect to ${transport.name} within ${String(timeoutMs)} ms`,
              ),
            ),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** One line per problem of an error: every configuration problem with its fix, or `[CODE] message`. */
export function problemsOf(error: unknown): { code: string; problem: string; fix?: string }[] {
  if (error instanceof ConfigurationError)
    return error.problems.map((p) => ({ code: p.code, problem: p.problem, fix: p.fix }));
  if (isOmnibusError(error)) return [{ code: error.code, problem: error.message }];
  return [{ code: 'ERROR', problem: error instanceof Error ? error.message : String(error) }];
}
