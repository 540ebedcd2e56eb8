import type { TransportProvider } from '../transport/transport-provider.js';
import { transportExportName, transportPackageName } from './transport-selection.js';

/** Names of the first-party transports, for error messages. */
export const FIRST_PARTY_TRANSPORTS: readonly string[] = [
  'in-memory',
  'rabbitmq',
  'kafka',
  'sqs',
  'azure',
  'nats',
  'migration',
];

/** Outcome of {@link findTransportProvider}. */
export type FindProviderResult =
  | { readonly found: true; readonly provider: TransportProvider }
  | { readonly found: false; readonly reason: string };

/**
 * Find the provider for a transport name, in order: the `providers` given; the built-in
 * `in-memory` transport (loaded lazily); then `import('@omnibus/transport-<name>')` expecting
 * the export `<camelName>Transport`. Never throws; a failed import is reported in `reason`.
 */
export async function findTransportProvider(
  name: string,
  providers: readonly TransportProvider[] = [],
): Promise<FindProviderResult> {
  const given = providers.find((provider) => provider.name === name);
  if (given !== undefined) return { found: true, provider: given };
  if (name === 'in-memory')
    return fromModule(
      () => import('../transport/in-memory/index.js'),
      name,
      'the built-in in-memory transport',
    );
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name))
    return { found: false, reason: 'not a valid transport name (lower-case letters, digits and dashes)' };
  const packageName = transportPackageName(name);
  return fromModule(() => import(packageName) as Promise<object>, name, packageName);
}

async function fromModule(
  load: () => Promise<object>,
  name: string,
  where: string,
): Promise<FindProviderResult> {
  let module: object;
  try {
    module = await load();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const detail = error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error);
    return {
      found: false,
      reason:
        code === 'ERR_MODULE_NOT_FOUND' ? `${where} is not installed` : `${where} failed to load: ${detail}`,
    };
  }
  const exportName = transportExportName(name);
  const provider = (module as Record<string, unknown>)[exportName];
  if (!isTransportProvider(provider))
    return { found: false, reason: `${where} does not export a TransportProvider named ${exportName}` };
  return { found: true, provider };
}

/** Structural check for a {@link TransportProvider}. Pure. */
export function isTransportProvider(value: unknown): value is TransportProvider {
  if (typeof value !== 'object' || value === null) return false;
  const candidate = value as Partial<TransportProvider>;
  return (
    typeof candidate.name === 'string' &&
    typeof candidate.create === 'function' &&
    typeof candidate.optionSchema === 'object'
  );
}
