import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, ModuleRef } from '@nestjs/core';
import { EventBus, createEventBus, readHandlerMetadata, type Constructor } from '@omnibus/core';
import { NestHandlerResolver } from './nest-handler-resolver.js';
import { OmnibusLifecycle } from './omnibus-lifecycle.js';
import {
  OMNIBUS_MODULE_OPTIONS,
  type OmnibusModuleAsyncOptions,
  type OmnibusModuleOptions,
} from './omnibus-module-options.js';

/**
 * The Omnibus bus as a Nest module. Handlers are discovered among the application's providers
 * (any provider class with `@EventHandler` methods) and resolved from Nest per delivery, so they
 * get constructor injection, the `EventBus` included. The bus starts on application bootstrap and
 * drains on shutdown (see {@link OmnibusLifecycle}). Global by default.
 *
 * @example
 * ```ts
 * @Module({ imports: [OmnibusModule.forRoot({ transport: { name: 'rabbitmq' } })], providers: [BillingHandler] })
 * class AppModule {}
 * ```
 */
@Module({})
export class OmnibusModule {
  /** Configure with a value. Configuration problems surface when the bus starts (bootstrap). */
  static forRoot(options: OmnibusModuleOptions = {}): DynamicModule {
    return build({ provide: OMNIBUS_MODULE_OPTIONS, useValue: options }, [], options.isGlobal ?? true);
  }

  /** Configure from other providers, e.g. `inject: [ConfigService]`. */
  static forRootAsync(options: OmnibusModuleAsyncOptions): DynamicModule {
    return build(
      { provide: OMNIBUS_MODULE_OPTIONS, useFactory: options.useFactory, inject: options.inject ?? [] },
      options.imports ?? [],
      options.isGlobal ?? true,
    );
  }
}

function build(
  optionsProvider: Provider,
  imports: NonNullable<DynamicModule['imports']>,
  global: boolean,
): DynamicModule {
  return {
    module: OmnibusModule,
    global,
    imports: [DiscoveryModule, ...imports],
    providers: [
      optionsProvider,
      {
        provide: EventBus,
        useFactory: createBus,
        inject: [OMNIBUS_MODULE_OPTIONS, DiscoveryService, ModuleRef],
      },
      OmnibusLifecycle,
    ],
    exports: [EventBus],
  };
}

/** The bus, with every provider class that declares handlers (plus `options.handlers`). */
function createBus(
  options: OmnibusModuleOptions,
  discovery: DiscoveryService,
  moduleRef: ModuleRef,
): EventBus {
  const providers = new Map<Constructor, 'static' | 'scoped'>();
  for (const wrapper of discovery.getProviders()) {
    const metatype: unknown = wrapper.metatype;
    if (typeof metatype !== 'function' || wrapper.isAlias || readHandlerMetadata(metatype).length === 0)
      continue;
    providers.set(metatype as Constructor, wrapper.isDependencyTreeStatic() ? 'static' : 'scoped');
  }
  const {
    autoStart: _autoStart,
    drainTimeoutMs: _drain,
    isGlobal: _global,
    handlers = [],
    ...config
  } = options;
  return createEventBus({
    ...config,
    handlers: [...new Set([...providers.keys(), ...handlers])],
    resolver: new NestHandlerResolver(moduleRef, providers),
  });
}
