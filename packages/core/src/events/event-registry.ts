import { destinationOf, type EventDefinition } from './event-definition.js';

/**
 * The events a bus knows, by name: used to decode received messages and to detect unknown
 * types. Registering the same definition (or an equal one) twice is a no-op; a different
 * definition under a known name is reported by {@link register}. Not synchronised: single
 * event loop only.
 */
export class EventRegistry {
  readonly #byName = new Map<string, EventDefinition<unknown>>();

  /**
   * Add an event. Returns a problem description when another definition with the same name
   * but a different destination or schema is already registered (nothing is changed then).
   */
  register(event: EventDefinition<unknown>): string | undefined {
    const known = this.#byName.get(event.name);
    if (known === undefined) {
      this.#byName.set(event.name, event);
      return undefined;
    }
    if (known === event) return undefined;
    if (destinationOf(known) !== destinationOf(event) || known.schema !== event.schema) {
      return `two different definitions of event "${event.name}" (destinations "${destinationOf(known)}" and "${destinationOf(event)}"); define each event once and import it where needed`;
    }
    return undefined;
  }

  /** The definition for a name, or `undefined` for unknown types. */
  get(name: string): EventDefinition<unknown> | undefined {
    return this.#byName.get(name);
  }

  /** True when the name is registered. */
  has(name: string): boolean {
    return this.#byName.has(name);
  }

  /** Every registered event, in registration order. */
  all(): readonly EventDefinition<unknown>[] {
    return [...this.#byName.values()];
  }
}
