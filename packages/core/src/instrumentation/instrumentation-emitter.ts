import type { Logger } from '../logging/logger.js';
import { noopLogger } from '../logging/logger.js';
import type {
  InstrumentationEventName,
  InstrumentationEvents,
  InstrumentationListener,
} from './instrumentation-events.js';

/**
 * Typed, synchronous emitter for instrumentation events. A listener that throws (or returns a
 * rejected promise) is logged and ignored: listeners can never break delivery. Listeners run in
 * registration order; one added or removed during an emit takes effect on the next emit.
 */
export class InstrumentationEmitter {
  readonly #listeners = new Map<InstrumentationEventName, Set<(event: never) => void | Promise<void>>>();
  readonly #logger: Logger;

  constructor(logger: Logger = noopLogger) {
    this.#logger = logger;
  }

  /** Add a listener; returns a disposer (idempotent). */
  on<K extends InstrumentationEventName>(name: K, listener: InstrumentationListener<K>): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    const stored = listener as (event: never) => void | Promise<void>;
    set.add(stored);
    return () => {
      set.delete(stored);
    };
  }

  /** Number of listeners for an event (lets callers skip building costly payloads). */
  listenerCount(name: InstrumentationEventName): number {
    return this.#listeners.get(name)?.size ?? 0;
  }

  /** Call every listener of `name`; never throws. */
  emit<K extends InstrumentationEventName>(name: K, event: InstrumentationEvents[K]): void {
    const set = this.#listeners.get(name);
    if (set === undefined || set.size === 0) return;
    for (const listener of [...set]) {
      try {
        const result = (listener as InstrumentationListener<K>)(event);
        if (result instanceof Promise) result.catch((error: unknown) => this.#failed(name, error));
      } catch (error) {
        this.#failed(name, error);
      }
    }
  }

  #failed(name: string, error: unknown): void {
    this.#logger.warn('instrumentation listener failed', { event: name, error });
  }
}
