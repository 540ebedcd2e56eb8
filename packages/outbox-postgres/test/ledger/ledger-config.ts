// What the ledger processes share: the event, the ledger tables and the child-process settings.
import { defineEvent, type EventDefinition } from '@omnibus/core';

/** Settings passed to every ledger child process as JSON in argv[2]. */
export interface LedgerSettings {
  readonly url: string;
  readonly schema: string;
  /** Transport name (`rabbitmq`, `kafka`). */
  readonly transport: string;
  /** Event name, unique per run (also the destination). */
  readonly eventName: string;
  readonly group: string;
  /** App only: first sequence number (each app incarnation gets its own range). */
  readonly firstN?: number;
  /** App only: probability that a transaction commits. */
  readonly commitRatio?: number;
}

/** The ledger's payload. */
export interface LedgerPayload {
  readonly n: number;
  readonly key: string;
}

export const ledgerEvent = (settings: LedgerSettings): EventDefinition<LedgerPayload> =>
  defineEvent<LedgerPayload>(settings.eventName);

/** The ledger's own tables, next to the outbox tables in the run's schema. */
export const ledgerDdl = (schema: string): string => `
CREATE TABLE "${schema}".ledger_orders (id text PRIMARY KEY, key text NOT NULL, n bigint NOT NULL);
CREATE TABLE "${schema}".ledger_rolled_back (id text PRIMARY KEY);
CREATE TABLE "${schema}".ledger_deliveries (id text NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE TABLE "${schema}".ledger_effects (id text NOT NULL);
`;

export const settingsFromArgv = (): LedgerSettings => JSON.parse(process.argv[2] ?? '{}') as LedgerSettings;
