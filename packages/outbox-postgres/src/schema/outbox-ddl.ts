import type { OutboxTables } from './outbox-tables.js';

/**
 * The DDL of the outbox, its dead-letter table, the inbox, the saga instances and the broker
 * migration claims, for the given table names.
 * Idempotent (`IF NOT EXISTS` / `OR REPLACE`); needs PostgreSQL 14 or newer. Apply it with
 * {@link migrate}, the `omnibus-outbox migrate` command, or your own migration tool.
 */
export function outboxDdl(t: OutboxTables): string {
  const p = t.prefix;
  return `
CREATE SCHEMA IF NOT EXISTS "${t.schema}";

CREATE TABLE IF NOT EXISTS ${t.outbox} (
  seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  id             text        NOT NULL,
  destination    text        NOT NULL,
  type           text        NOT NULL,
  partition_key  text,
  content_type   text        NOT NULL,
  payload        bytea       NOT NULL,
  headers        jsonb       NOT NULL DEFAULT '{}'::jsonb,
  correlation_id text,
  causation_id   text,
  occurred_at    timestamptz NOT NULL,
  delay_ms       integer,
  created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
  dispatched_at  timestamptz,
  attempts       integer     NOT NULL DEFAULT 0,
  last_error     text
);
CREATE INDEX IF NOT EXISTS "${p}outbox_pending" ON ${t.outbox} (seq) WHERE dispatched_at IS NULL;
CREATE INDEX IF NOT EXISTS "${p}outbox_dispatched" ON ${t.outbox} (dispatched_at) WHERE dispatched_at IS NOT NULL;

CREATE TABLE IF NOT EXISTS ${t.deadLetter} (
  seq              bigint      PRIMARY KEY,
  id               text        NOT NULL,
  destination      text        NOT NULL,
  type             text        NOT NULL,
  partition_key    text,
  content_type     text        NOT NULL,
  payload          bytea       NOT NULL,
  headers          jsonb       NOT NULL,
  correlation_id   text,
  causation_id     text,
  occurred_at      timestamptz NOT NULL,
  created_at       timestamptz NOT NULL,
  reason           text        NOT NULL,
  dead_lettered_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE TABLE IF NOT EXISTS ${t.inbox} (
  group_name  text        NOT NULL,
  message_id  text        NOT NULL,
  handled_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (group_name, message_id)
);
CREATE INDEX IF NOT EXISTS "${p}inbox_handled_at" ON ${t.inbox} (handled_at);

CREATE TABLE IF NOT EXISTS ${t.saga} (
  saga        text        NOT NULL,
  id          text        NOT NULL,
  version     integer     NOT NULL,
  status      text        NOT NULL,
  timed_out   boolean     NOT NULL DEFAULT false,
  next_due_at timestamptz,
  updated_at  timestamptz NOT NULL,
  record      jsonb       NOT NULL,
  PRIMARY KEY (saga, id)
);
CREATE INDEX IF NOT EXISTS "${p}saga_status_updated" ON ${t.saga} (saga, status, updated_at);
CREATE INDEX IF NOT EXISTS "${p}saga_due" ON ${t.saga} (next_due_at) WHERE status = 'active';

CREATE TABLE IF NOT EXISTS ${t.migrationClaims} (
  group_name  text        NOT NULL,
  message_id  text        NOT NULL,
  side        text        NOT NULL CHECK (side IN ('from', 'to')),
  claimed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
  PRIMARY KEY (group_name, message_id)
);
CREATE INDEX IF NOT EXISTS "${p}migration_claims_claimed_at" ON ${t.migrationClaims} (claimed_at);

CREATE OR REPLACE FUNCTION ${t.notifyFunction}() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM pg_notify('${t.channel}', TG_TABLE_SCHEMA);
  RETURN NULL;
END
$fn$;
CREATE OR REPLACE TRIGGER "${p}outbox_notify" AFTER INSERT ON ${t.outbox}
  FOR EACH STATEMENT EXECUTE FUNCTION ${t.notifyFunction}();
`;
}
