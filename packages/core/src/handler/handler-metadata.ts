import type { EventDefinition } from '../events/event-definition.js';
import type { EventHandlerOptions } from './event-handler-options.js';

/**
 * Key under which `@EventHandler` stores metadata on a class. `Symbol.for`, so duplicate
 * copies of `@omnibus/core` read each other's metadata.
 */
export const HANDLER_METADATA = Symbol.for('omnibus.event-handlers');

/** One `@EventHandler` declaration as recorded on a class. */
export interface HandlerMetadata {
  /** Decorated method. */
  readonly methodName: string | symbol;
  /** Handled event (whatever was passed; validated at registration). */
  readonly event: EventDefinition<unknown>;
  /** Options as written (validated at registration). */
  readonly options: EventHandlerOptions;
  /** True when a static method was decorated (reported as a problem at registration). */
  readonly isStatic: boolean;
}

/** A class constructor (any constructor arguments). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Constructor<T = object> = abstract new (...args: any[]) => T;

/**
 * The `@EventHandler` declarations of a class, including inherited ones, in declaration
 * order. Pure read; `[]` for undecorated classes.
 */
export function readHandlerMetadata(ctor: object): readonly HandlerMetadata[] {
  const value = (ctor as unknown as Record<symbol, unknown>)[HANDLER_METADATA];
  return Array.isArray(value) ? (value as HandlerMetadata[]) : [];
}

/** Append a declaration to a class without mutating a parent class's list. */
export function appendHandlerMetadata(ctor: object, entry: HandlerMetadata): void {
  const list = [...readHandlerMetadata(ctor), entry];
  Object.defineProperty(ctor, HANDLER_METADATA, {
    value: Object.freeze(list),
    configurable: true,
    enumerable: false,
    writable: false,
  });
}
