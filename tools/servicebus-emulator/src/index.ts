export { startEmulator, emulatorConnectionString, isLoopbackHost } from './emulator.js';
export type { EmulatorOptions, RunningEmulator } from './emulator.js';
export { resolveConfig, loadConfigFile, ConfigError, DEFAULT_ENTITY_OPTIONS } from './config.js';
export type {
  EmulatorConfig,
  EntityOptions,
  EntityOptionsInput,
  QueueConfig,
  TopicConfig,
  SubscriptionConfig,
  ResolvedConfig,
} from './config.js';
export type { EntitySnapshot } from './entity-store.js';
export { compileSqlFilter, SQL_SUBSET } from './subscription-filter.js';
export type { SubscriptionFilter, CorrelationFilter, FilterValue } from './subscription-filter.js';
