import type { Constructor } from './handler-metadata.js';

/**
 * The DI port: gives the router an instance of a handler class. Called once per delivery
 * (implementations decide scoping: singleton, transient, request scope). May be async. A
 * throw or rejection fails the attempt (code `HANDLER_NOT_RESOLVED`), which is retried per
 * policy. Must be safe to call concurrently.
 */
export interface HandlerResolver {
  /** An instance of `ctor` for one delivery (or a promise of one). */
  resolve<T extends object>(ctor: Constructor<T>): T | Promise<T>;
}

/**
 * Default resolver: `new ctor()` once per class, then the same instance (handlers are
 * expected to be stateless or to manage their own state). Classes with constructor
 * parameters need a DI resolver (`@omnibus/di-inversify`, `@omnibus/di-tsyringe`).
 */
export class ConstructorResolver implements HandlerResolver {
  readonly #instances = new Map<Constructor, object>();

  /** The one instance of `ctor`, created with `new` on first use. */
  resolve<T extends object>(ctor: Constructor<T>): T {
    let instance = this.#instances.get(ctor);
    if (instance === undefined) {
      instance = new (ctor as unknown as new () => T)();
      this.#instances.set(ctor, instance);
    }
    return instance as T;
  }
}
