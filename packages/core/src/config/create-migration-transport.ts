import type { ConfigurationProblems } from '../errors/configuration-error.js';
import { ErrorCodes } from '../errors/error-codes.js';
import { InProcessMigrationClaims, type MigrationClaims } from '../transport/migration/migration-claims.js';
import { MigrationTransport, type MigrationPhase } from '../transport/migration/migration-transport.js';
import type { Transport } from '../transport/transport.js';
import { closestMatch } from './closest-match.js';
import type { TransportSelection } from './transport-selection.js';

/** The transport name that selects {@link MigrationTransport} from configuration. */
export const MIGRATION_TRANSPORT_NAME = 'migration';

const PHASES: readonly MigrationPhase[] = ['dual-write', 'drain', 'cut-over'];
const CLAIM_STORES = ['in-process', 'postgres'] as const;
const OPTIONS = [
  'from',
  'to',
  'phase',
  'claims',
  'claimsUrl',
  'claimsSchema',
  'claimsPrefix',
  'claimsWindow',
] as const;

/** The package and export that build the shared PostgreSQL claim store. */
const POSTGRES_CLAIMS_PACKAGE = '@omnibus/outbox-postgres';
const POSTGRES_CLAIMS_EXPORT = 'createPostgresMigrationClaims';

/** What `createPostgresMigrationClaims` of `@omnibus/outbox-postgres` accepts. */
interface PostgresClaimsFactoryOptions {
  readonly connectionString: string;
  readonly schema?: string;
  readonly prefix?: string;
}

/** Builds one side's transport from its selection (the normal provider path). */
type CreateSide = (selection: TransportSelection, where: string) => Promise<Transport | undefined>;

/**
 * Build a {@link MigrationTransport} from a `{ name: 'migration', options }` selection:
 * - `from`, `to`: the old and new transport, each an alias of `transports` (its selection is
 *   used to create a separate instance), a transport name, or `{ name, options }`;
 * - `phase`: `dual-write`, `drain` or `cut-over`;
 * - `claims`: `in-process` (default; `claimsWindow` messages) or `postgres` (`claimsUrl`, and
 *   optionally `claimsSchema`/`claimsPrefix`: the `migration_claims` table of
 *   `@omnibus/outbox-postgres`), or a {@link MigrationClaims} instance given in code.
 * Every problem goes to `problems`, naming the option, its environment variable and the fix;
 * returns `undefined` then (closing whatever side was already created).
 */
export async function createMigrationTransport(
  selection: TransportSelection,
  where: string,
  aliases: Readonly<Record<string, Transport | TransportSelection>>,
  createSide: CreateSide,
  problems: ConfigurationProblems,
): Promise<Transport | undefined> {
  const options = selection.options ?? {};
  const env = where === 'transport' ? 'OMNIBUS_MIGRATION_' : `OMNIBUS_TRANSPORTS_${aliasEnv(where)}_`;
  const bad = (problem: string, fix: string): void => {
    problems.add(ErrorCodes.CONFIGURATION_INVALID, `${where} (migration): ${problem}`, fix);
  };
  const before = problems.list.length;
  for (const key of Object.keys(options))
    if (!(OPTIONS as readonly string[]).includes(key)) {
      const suggestion = closestMatch(key, OPTIONS);
      bad(
        `unknown option "${key}"`,
        suggestion === undefined
          ? `remove it (the migration transport's options: ${OPTIONS.join(', ')})`
          : `did you mean "${suggestion}" (${env}${envSuffix(suggestion)})?`,
      );
    }
  const phase = options['phase'];
  if (typeof phase !== 'string' || !(PHASES as readonly string[]).includes(phase))
    bad(
      phase === undefined
        ? 'options.phase is missing'
        : `options.phase ${JSON.stringify(phase)} is not a phase`,
      `set options.phase (or ${env}PHASE) to one of ${PHASES.join(', ')}; roll the phases out in that order`,
    );
  const sides: Partial<Record<'from' | 'to', TransportSelection>> = {};
  for (const side of ['from', 'to'] as const) {
    const resolved = resolveSide(side, options[side], aliases, env, bad);
    if (resolved !== undefined) sides[side] = resolved;
  }
  if (
    sides.from !== undefined &&
    sides.to !== undefined &&
    sides.from.name === sides.to.name &&
    JSON.stringify(sides.from.options ?? {}) === JSON.stringify(sides.to.options ?? {})
  )
    bad(
      `from and to are the same transport ("${sides.from.name}" with the same options)`,
      `point ${env}TO (or options.to) at the new broker: a migration moves between two brokers`,
    );
  const claims = readClaims(options, env, bad);
  if (problems.list.length > before || sides.from === undefined || sides.to === undefined) return undefined;

  const from = await createSide(sides.from, `${where}.options.from`);
  const to = await createSide(sides.to, `${where}.options.to`);
  const store = from === undefined || to === undefined ? undefined : await claims();
  if (from === undefined || to === undefined || store === undefined) {
    for (const side of [from, to]) if (side !== undefined) await side.close(0).catch(() => undefined);
    return undefined;
  }
  return new MigrationTransport({
    from,
    to,
    phase: phase as MigrationPhase,
    claims: store.claims,
    ownsClaims: store.owned,
  });

  /** The claim store the options select, created lazily (after both sides were created). */
  function readClaims(
    opts: Readonly<Record<string, unknown>>,
    prefix: string,
    report: (problem: string, fix: string) => void,
  ): () => Promise<{ claims: MigrationClaims; owned: boolean } | undefined> {
    const kind = opts['claims'] ?? 'in-process';
    if (isClaims(kind)) return () => Promise.resolve({ claims: kind, owned: false });
    if (typeof kind !== 'string' || !(CLAIM_STORES as readonly string[]).includes(kind)) {
      report(
        `options.claims ${JSON.stringify(kind)} is not a claim store`,
        `set options.claims (or ${prefix}CLAIMS) to ${CLAIM_STORES.join(' or ')} (postgres: shared by every consumer process)`,
      );
      return () => Promise.resolve(undefined);
    }
    const window = opts['claimsWindow'];
    const capacity = window === undefined ? undefined : Number(window);
    if (capacity !== undefined && (!Number.isInteger(capacity) || capacity < 1))
      report(
        `options.claimsWindow "${String(window)}" is not a positive integer`,
        `set ${prefix}CLAIMS_WINDOW to how many messages the in-process window remembers (default 100000)`,
      );
    const url = opts['claimsUrl'];
    const schema = opts['claimsSchema'];
    const tablePrefix = opts['claimsPrefix'];
    if (kind === 'in-process') {
      for (const key of ['claimsUrl', 'claimsSchema', 'claimsPrefix'] as const)
        if (opts[key] !== undefined)
          report(
            `options.${key} is set but options.claims is "in-process"`,
            `set ${prefix}CLAIMS=postgres to use the PostgreSQL claim store, or remove ${prefix}${envSuffix(key)}`,
          );
      return () => Promise.resolve({ claims: new InProcessMigrationClaims(capacity), owned: false });
    }
    if (window !== undefined)
      report(
        'options.claimsWindow only applies to the in-process claim store',
        `remove ${prefix}CLAIMS_WINDOW (the PostgreSQL store keeps claims until they expire)`,
      );
    if (typeof url !== 'string' || url === '')
      report(
        'options.claims is "postgres" but options.claimsUrl is missing',
        `set ${prefix}CLAIMS_URL (or options.claimsUrl) to the PostgreSQL connection string, e.g. postgres://user:password@host:5432/db`,
      );
    for (const [key, value] of [
      ['claimsSchema', schema],
      ['claimsPrefix', tablePrefix],
    ] as const)
      if (value !== undefined && typeof value !== 'string')
        report(
          `options.${key} must be a string`,
          `set ${prefix}${envSuffix(key)} to a lower-case SQL identifier`,
        );
    return async () => {
      const factory = await loadPostgresClaims();
      if (typeof factory === 'string') {
        report(
          `options.claims is "postgres" but ${POSTGRES_CLAIMS_PACKAGE} ${factory}`,
          `npm install ${POSTGRES_CLAIMS_PACKAGE} pg, and create its tables (npx omnibus-outbox migrate --url <postgres-url>)`,
        );
        return undefined;
      }
      try {
        return {
          claims: factory({
            connectionString: url as string,
            ...(typeof schema === 'string' ? { schema } : {}),
            ...(typeof tablePrefix === 'string' ? { prefix: tablePrefix } : {}),
          }),
          owned: true,
        };
      } catch (error) {
        report(
          `could not create the PostgreSQL claim store: ${error instanceof Error ? error.message : String(error)}`,
          `correct ${prefix}CLAIMS_SCHEMA / ${prefix}CLAIMS_PREFIX`,
        );
        return undefined;
      }
    };
  }
}

/** One side's selection: an alias's selection, a transport name, or `{ name, options }`. */
function resolveSide(
  side: 'from' | 'to',
  value: unknown,
  aliases: Readonly<Record<string, Transport | TransportSelection>>,
  env: string,
  bad: (problem: string, fix: string) => void,
): TransportSelection | undefined {
  const known = Object.keys(aliases);
  const example = side === 'from' ? 'rabbitmq' : 'kafka';
  if (value === undefined || value === '') {
    bad(
      `options.${side} is missing`,
      `set ${env}${side.toUpperCase()} (or options.${side}) to the ${side === 'from' ? 'old' : 'new'} transport: a transport name (e.g. ${example}), { name, options }${known.length === 0 ? '' : `, or one of the aliases ${known.join(', ')}`}`,
    );
    return undefined;
  }
  let selection: TransportSelection;
  if (typeof value === 'string') {
    const aliased = aliases[value];
    if (aliased !== undefined) {
      if (!isSelection(aliased)) {
        bad(
          `options.${side} names transports.${value}, which is a Transport instance`,
          `give transports.${value} as { name, options } (the migration creates its own connection from it), or build a MigrationTransport in code`,
        );
        return undefined;
      }
      selection = aliased;
    } else selection = { name: value };
  } else if (isSelection(value)) selection = value;
  else {
    bad(
      `options.${side} must be a transport alias, a transport name or { name, options }`,
      `e.g. options.${side}: "${example}" or { "name": "${example}", "options": { … } }`,
    );
    return undefined;
  }
  if (selection.name === MIGRATION_TRANSPORT_NAME) {
    bad(
      `options.${side} is itself a migration`,
      'migrate between two brokers at a time: finish one migration (cut-over) before starting the next',
    );
    return undefined;
  }
  return selection;
}

function isSelection(value: unknown): value is TransportSelection {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as TransportSelection).name === 'string' &&
    typeof (value as { subscribe?: unknown }).subscribe !== 'function'
  );
}

function isClaims(value: unknown): value is MigrationClaims {
  return (
    typeof value === 'object' && value !== null && typeof (value as MigrationClaims).claim === 'function'
  );
}

/** The factory of `@omnibus/outbox-postgres`, or why it could not be loaded. */
async function loadPostgresClaims(): Promise<
  ((options: PostgresClaimsFactoryOptions) => MigrationClaims) | string
> {
  let module: Record<string, unknown>;
  try {
    module = (await import(POSTGRES_CLAIMS_PACKAGE)) as Record<string, unknown>;
  } catch (error) {
    return (error as { code?: unknown }).code === 'ERR_MODULE_NOT_FOUND'
      ? 'is not installed'
      : `failed to load: ${error instanceof Error ? (error.message.split('\n')[0] ?? '') : String(error)}`;
  }
  const factory = module[POSTGRES_CLAIMS_EXPORT];
  return typeof factory === 'function'
    ? (factory as (options: PostgresClaimsFactoryOptions) => MigrationClaims)
    : `has no export ${POSTGRES_CLAIMS_EXPORT} (update it)`;
}

/** `claimsUrl` → `CLAIMS_URL`. Pure. */
function envSuffix(key: string): string {
  return key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

/** `old-broker` → `OLD_BROKER`. Pure. */
function aliasEnv(where: string): string {
  return where
    .replace(/^transports\./, '')
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_');
}
