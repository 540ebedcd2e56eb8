import { redactOptions, parseOptions } from './option-schema.js';
import type { ConfigurationProblems } from '../errors/configuration-error.js';
import { ErrorCodes } from '../errors/error-codes.js';
import type { Transport } from '../transport/transport.js';
import type { TransportProvider } from '../transport/transport-provider.js';
import { closestMatch } from './closest-match.js';
import { createMigrationTransport, MIGRATION_TRANSPORT_NAME } from './create-migration-transport.js';
import { FIRST_PARTY_TRANSPORTS, findTransportProvider } from './find-transport-provider.js';
import { transportEnvPrefix, transportPackageName, type TransportSelection } from './transport-selection.js';

/**
 * Build the transport a configuration selects: find its provider, validate its options with
 * `parseOptions` (every problem), and call `provider.create`. Problems go to `problems`
 * (`TRANSPORT_UNKNOWN` with the known names and the package to install; `CONFIGURATION_INVALID`
 * per bad option, naming its environment variable); returns `undefined` then. Option values
 * never appear unredacted in problems. The name `migration` (unless a given provider has it)
 * builds a `MigrationTransport` from its `from`, `to` and `phase` options, where `from`/`to`
 * may name one of `aliases` (the bus's `transports`); `where` names the selection in problems.
 */
export async function createTransport(
  selection: TransportSelection,
  providers: readonly TransportProvider[],
  problems: ConfigurationProblems,
  aliases: Readonly<Record<string, Transport | TransportSelection>> = {},
  where = 'transport',
): Promise<Transport | undefined> {
  if (
    typeof selection !== 'object' ||
    selection === null ||
    typeof selection.name !== 'string' ||
    selection.name === ''
  ) {
    problems.add(
      ErrorCodes.CONFIGURATION_INVALID,
      'transport must be a Transport instance or { name, options }',
      "set `transport: { name: 'in-memory' }` (or OMNIBUS_TRANSPORT)",
    );
    return undefined;
  }
  const { name } = selection;
  if (name === MIGRATION_TRANSPORT_NAME && !providers.some((p) => p.name === name))
    return createMigrationTransport(
      selection,
      where,
      aliases,
      async (side, sideWhere) => {
        const before = problems.list.length;
        const transport = await createTransport(side, providers, problems, aliases, sideWhere);
        for (const problem of problems.list.slice(before))
          if (!problem.problem.startsWith(`${sideWhere}`))
            Object.assign(problem, { problem: `${sideWhere}: ${problem.problem}` });
        return transport;
      },
      problems,
    );
  const result = await findTransportProvider(name, providers);
  if (!result.found) {
    const known = [...new Set([...providers.map((p) => p.name), ...FIRST_PARTY_TRANSPORTS])];
    const suggestion = closestMatch(name, known);
    problems.add(
      ErrorCodes.TRANSPORT_UNKNOWN,
      suggestion === undefined
        ? `unknown transport "${name}": ${result.reason} (known transports: ${known.join(', ')})`
        : `unknown transport "${name}" — did you mean "${suggestion}"? (known transports: ${known.join(', ')})`,
      suggestion === undefined
        ? `install ${transportPackageName(name)} (npm install ${transportPackageName(name)}) and pass its provider in \`providers\`, or choose one of: ${known.join(', ')}`
        : `use "${suggestion}" (OMNIBUS_TRANSPORT=${suggestion})`,
    );
    return undefined;
  }
  const provider = result.provider;
  const raw = selection.options ?? {};
  const parsed = parseOptions(provider.optionSchema, raw, 'transport.options');
  if (!parsed.ok) {
    for (const issue of parsed.issues)
      problems.add(ErrorCodes.CONFIGURATION_INVALID, `${name}: ${issue}`, optionFix(name, issue, provider));
    return undefined;
  }
  try {
    return provider.create(parsed.options);
  } catch (error) {
    problems.add(
      ErrorCodes.CONFIGURATION_INVALID,
      `${name}: could not create the transport with options ${JSON.stringify(redactOptions(provider.optionSchema, parsed.options))}: ${error instanceof Error ? error.message : String(error)}`,
      'correct the transport options',
    );
    return undefined;
  }
}

function optionFix(name: string, issue: string, provider: TransportProvider): string {
  const key = /^transport\.options\.([A-Za-z0-9_]+)/.exec(issue)?.[1];
  if (key === undefined || !(key in provider.optionSchema)) {
    const suggestion = key === undefined ? undefined : closestMatch(key, Object.keys(provider.optionSchema));
    return suggestion === undefined
      ? `remove or rename it (see the ${provider.packageName} option list)`
      : `did you mean "${suggestion}" (${transportEnvPrefix(name)}${envSuffix(suggestion)})?`;
  }
  const spec = provider.optionSchema[key];
  const env = `${transportEnvPrefix(name)}${envSuffix(key)}`;
  return `set transport.options.${key} (or ${env}) to ${spec?.type === 'string[]' || spec?.type === 'integer[]' ? 'a list' : spec?.type === 'integer' ? 'an integer' : `a ${spec?.type ?? 'valid'} value`}: ${spec?.description ?? ''}`.trim();
}

/** `prefetchCount` → `PREFETCH_COUNT` (the environment-variable spelling of an option). */
function envSuffix(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}
