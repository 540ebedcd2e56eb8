import type { Constructor, HandlerResolver } from '@omnibus/core';
import type { Container, ServiceIdentifier } from 'inversify';

/** Options of {@link InversifyHandlerResolver}. */
export interface InversifyHandlerResolverOptions {
  /**
   * Resolve `@injectable()` handler classes that were not bound explicitly (inversify
   * `autobind`, transient scope). Default true; with false, unbound handlers fail to resolve.
   */
  readonly autobind?: boolean;
}

/**
 * Resolves handler instances from an inversify (≥ 7) container, per delivery, with
 * `container.getAsync` (so async providers work). Scoping is the container's: bind a handler
 * `inSingletonScope()` to reuse one instance. Safe to call concurrently. A resolution error
 * rejects, which fails the attempt (`HANDLER_NOT_RESOLVED`, retried per policy).
 *
 * To inject the bus into handlers, bind it after creating it:
 * `container.bind(EventBus).toDynamicValue(() => bus)`.
 */
export class InversifyHandlerResolver implements HandlerResolver {
  readonly #container: Container;
  readonly #autobind: boolean;

  constructor(container: Container, options: InversifyHandlerResolverOptions = {}) {
    this.#container = container;
    this.#autobind = options.autobind ?? true;
  }

  /** `container.getAsync(ctor)`; rejects (failing the attempt) when it cannot be resolved. */
  resolve<T extends object>(ctor: Constructor<T>): Promise<T> {
    return this.#container.getAsync<T>(ctor as ServiceIdentifier<T>, { autobind: this.#autobind });
  }
}
