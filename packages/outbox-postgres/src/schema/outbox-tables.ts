import { ErrorCodes, OmnibusError } from '@omnibus/core';

/** Where the outbox, dead-letter, inbox and saga tables live. */
export interface OutboxTablesOptions {
  /** PostgreSQL schema of the tables. Default `public`. */
  readonly schema?: string;
  /** Prefix of the table names. Default `omnibus_`. */
  readonly prefix?: string;
}

/** Resolved, quoted table names. Pure value; safe to share. */
export interface OutboxTables {
  readonly schema: string;
  /** Quoted `"schema"."<prefix>outbox"`. */
  readonly outbox: string;
  /** Quoted `"schema"."<prefix>outbox_dead_letter"`. */
  readonly deadLetter: string;
  /** Quoted `"schema"."<prefix>inbox"`. */
  readonly inbox: string;
  /** Quoted `"schema"."<prefix>saga"`: saga instances of `PostgresSagaStore`. */
  readonly saga: string;
  /** Quoted `"schema"."<prefix>migration_claims"`: claims of `PostgresMigrationClaims`. */
  readonly migrationClaims: string;
  /** Unquoted base name, used for index, trigger and function names. */
  readonly prefix: string;
  /** Quoted `"schema"."<prefix>outbox_notify"` trigger function. */
  readonly notifyFunction: string;
  /** LISTEN/NOTIFY channel the insert trigger notifies on. */
  readonly channel: string;
  /** First key of the relay's advisory locks (per table set). */
  readonly lockSpace: number;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,39}$/;

/** Quote an identifier already checked against {@link IDENTIFIER}. */
const q = (name: string): string => `"${name}"`;

/**
 * Resolve the table names. @throws OmnibusError `CONFIGURATION_INVALID` when the schema or
 * prefix is not a lower-case SQL identifier (letters, digits, `_`; at most 40 characters).
 */
export function outboxTables(options: OutboxTablesOptions = {}): OutboxTables {
  const schema = options.schema ?? 'public';
  const prefix = options.prefix ?? 'omnibus_';
  for (const [what, value] of [
    ['schema', schema],
    ['prefix', prefix],
  ] as const) {
    if (!IDENTIFIER.test(value))
      throw new OmnibusError(
        ErrorCodes.CONFIGURATION_INVALID,
        `outbox ${what} "${value}" must be a lower-case SQL identifier ([a-z_][a-z0-9_]*, at most 40 characters)`,
      );
  }
  return {
    schema,
    prefix,
    outbox: `${q(schema)}.${q(`${prefix}outbox`)}`,
    deadLetter: `${q(schema)}.${q(`${prefix}outbox_dead_letter`)}`,
    inbox: `${q(schema)}.${q(`${prefix}inbox`)}`,
    saga: `${q(schema)}.${q(`${prefix}saga`)}`,
    migrationClaims: `${q(schema)}.${q(`${prefix}migration_claims`)}`,
    notifyFunction: `${q(schema)}.${q(`${prefix}outbox_notify`)}`,
    channel: `${prefix}outbox`,
    lockSpace: lockSpaceOf(`${schema}.${prefix}`),
  };
}

/** A stable 31-bit number for a table set, so relays of different schemas never share locks. */
function lockSpaceOf(name: string): number {
  let hash = 0x5f3759df;
  for (let i = 0; i < name.length; i++)
    hash = (Math.imul(hash ^ name.charCodeAt(i), 16777619) >>> 0) & 0x7fffffff;
  return hash;
}
