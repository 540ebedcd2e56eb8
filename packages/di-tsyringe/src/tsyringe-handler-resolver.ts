import type { Constructor, HandlerResolver } from '@omnibus/core';
import type { DependencyContainer, InjectionToken } from 'tsyringe';

/**
 * Resolves handler instances from a tsyringe container, per delivery, with
 * `container.resolve` (unregistered `@injectable()` classes are constructed on demand;
 * register them as singletons to reuse one instance). Pass a child container to isolate
 * tests. Safe to call concurrently. A resolution error fails the attempt
 * (`HANDLER_NOT_RESOLVED`, retried per policy).
 *
 * Imports nothing from tsyringe at run time, so the application controls when
 * `reflect-metadata` is loaded (it must be imported before tsyringe). To inject the bus into
 * handlers, register it after creating it: `container.register(EventBus, { useFactory: () => bus })`.
 */
export class TsyringeHandlerResolver implements HandlerResolver {
  readonly #container: DependencyContainer;

  constructor(container: DependencyContainer) {
    this.#container = container;
  }

  /** `container.resolve(ctor)`; throws (failing the attempt) when it cannot be resolved. */
  resolve<T extends object>(ctor: Constructor<T>): T {
    return this.#container.resolve<T>(ctor as InjectionToken<T>);
  }
}
