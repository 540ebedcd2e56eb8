import type { Constructor, HandlerResolver } from '@omnibus/core';
import { ConstructorResolver } from '@omnibus/core';
import type { ModuleRef } from '@nestjs/core';

/**
 * Resolves handler instances from Nest: providers through `ModuleRef` (singletons with `get`,
 * request- and transient-scoped ones with `resolve`, a new instance per delivery), classes that
 * are not providers with `new` once. Safe to call concurrently.
 */
export class NestHandlerResolver implements HandlerResolver {
  readonly #moduleRef: ModuleRef;
  readonly #providers: ReadonlyMap<Constructor, 'static' | 'scoped'>;
  readonly #fallback = new ConstructorResolver();

  constructor(moduleRef: ModuleRef, providers: ReadonlyMap<Constructor, 'static' | 'scoped'>) {
    this.#moduleRef = moduleRef;
    this.#providers = providers;
  }

  /** The handler instance for one delivery (see the class description for scopes). */
  resolve<T extends object>(ctor: Constructor<T>): T | Promise<T> {
    const scope = this.#providers.get(ctor);
    if (scope === undefined) return this.#fallback.resolve(ctor);
    if (scope === 'scoped') return this.#moduleRef.resolve<T>(ctor, undefined, { strict: false });
    return this.#moduleRef.get<T>(ctor, { strict: false });
  }
}
