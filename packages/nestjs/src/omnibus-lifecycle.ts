import { Inject, Injectable, type OnApplicationBootstrap, type OnModuleDestroy } from '@nestjs/common';
import { EventBus } from '@omnibus/core';
import { OMNIBUS_MODULE_OPTIONS, type OmnibusModuleOptions } from './omnibus-module-options.js';

/**
 * Starts the bus when the application has bootstrapped (every provider, handlers included, is
 * ready) and stops it (intake stops, in-flight handlers drain, then the transport closes) as the
 * first shutdown step, `onModuleDestroy`, before the handlers' own dependencies are torn down.
 * `app.enableShutdownHooks()` makes SIGTERM/SIGINT run it too.
 */
@Injectable()
export class OmnibusLifecycle implements OnApplicationBootstrap, OnModuleDestroy {
  readonly #bus: EventBus;
  readonly #options: OmnibusModuleOptions;

  constructor(
    @Inject(EventBus) bus: EventBus,
    @Inject(OMNIBUS_MODULE_OPTIONS) options: OmnibusModuleOptions,
  ) {
    this.#bus = bus;
    this.#options = options;
  }

  /** Start the bus unless `autoStart` is false. */
  async onApplicationBootstrap(): Promise<void> {
    if (this.#options.autoStart !== false) await this.#bus.start();
  }

  /** Stop the bus, draining in-flight handlers for up to `drainTimeoutMs`. */
  async onModuleDestroy(): Promise<void> {
    if (this.#bus.status === 'idle' || this.#bus.status === 'stopped') return;
    await this.#bus.stop(
      this.#options.drainTimeoutMs === undefined ? {} : { drainTimeoutMs: this.#options.drainTimeoutMs },
    );
  }
}
