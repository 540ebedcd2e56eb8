// Public API of @omnibus/outbox-postgres. Explicit named exports only.
export { PostgresOutbox } from './outbox/postgres-outbox.js';
export type { PostgresOutboxOptions, TransactionalPublisher } from './outbox/postgres-outbox.js';
export { OutboxRelay } from './relay/outbox-relay.js';
export type { OutboxRelayOptions } from './relay/outbox-relay.js';
export type { OutboxRelayEvents, OutboxRelayEventName, OutboxRelayListener } from './relay/relay-events.js';
export type { BatchResult, DestinationRefusal } from './relay/dispatch-batch.js';
export { PostgresInbox } from './inbox/postgres-inbox.js';
export type { PostgresInboxOptions, InboxOutcome } from './inbox/postgres-inbox.js';
export { migrate } from './schema/migrate.js';
export { outboxDdl } from './schema/outbox-ddl.js';
export { outboxTables } from './schema/outbox-tables.js';
export type { OutboxTables, OutboxTablesOptions } from './schema/outbox-tables.js';
export { cleanup, measureLag } from './maintenance.js';
export type { CleanupOptions, CleanupResult, OutboxLag } from './maintenance.js';
export { withTransaction } from './transaction.js';
export { MIGRATE_COMMAND, isConnectionError } from './store-errors.js';
export type { SqlClient, SqlPool, SqlResult, PooledClient } from './sql-client.js';
export { PostgresSagaStore } from './saga/postgres-saga-store.js';
export type { PostgresSagaStoreOptions } from './saga/postgres-saga-store.js';
export {
  PostgresMigrationClaims,
  createPostgresMigrationClaims,
} from './migration/postgres-migration-claims.js';
export type {
  PostgresMigrationClaimsOptions,
  PostgresMigrationClaimsConnection,
} from './migration/postgres-migration-claims.js';
