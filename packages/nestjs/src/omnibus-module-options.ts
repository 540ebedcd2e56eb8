import type { EventBusConfig } from '@omnibus/core';
import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency } from '@nestjs/common';

/**
 * Options of {@link OmnibusModule}: an `EventBusConfig` without `resolver` (handlers are
 * resolved from Nest) plus lifecycle settings. Handlers are the Nest providers whose class has
 * `@EventHandler` methods; `handlers` adds classes that are not providers (created with `new`).
 */
export interface OmnibusModuleOptions extends Omit<EventBusConfig, 'resolver'> {
  /** Start the bus on application bootstrap (default true). */
  readonly autoStart?: boolean;
  /** How long `app.close()` waits for in-flight handlers (default: the bus's own default). */
  readonly drainTimeoutMs?: number;
  /** Register the module globally so `EventBus` is injectable everywhere (default true). */
  readonly isGlobal?: boolean;
}

/** Options of {@link OmnibusModule.forRootAsync} (e.g. from `ConfigService`). */
export interface OmnibusModuleAsyncOptions {
  readonly imports?: ModuleMetadata['imports'];
  readonly inject?: (InjectionToken | OptionalFactoryDependency)[];
  /** Builds the options; receives the `inject` providers in order. */
  readonly useFactory: (
    ...args: never[]
  ) => Omit<OmnibusModuleOptions, 'isGlobal'> | Promise<Omit<OmnibusModuleOptions, 'isGlobal'>>;
  /** Register the module globally (default true). */
  readonly isGlobal?: boolean;
}

/** Injection token of the resolved {@link OmnibusModuleOptions}. */
export const OMNIBUS_MODULE_OPTIONS = Symbol.for('omnibus.nestjs.module-options');
