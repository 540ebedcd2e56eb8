export { MigrationTransport } from './migration-transport.js';
export type { MigrationPhase, MigrationTransportOptions } from './migration-transport.js';
export { InProcessMigrationClaims } from './migration-claims.js';
export type { MigrationClaims, MigrationSide } from './migration-claims.js';
