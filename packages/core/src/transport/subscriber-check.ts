import { ErrorCodes } from '../errors/error-codes.js';
import { OmnibusError } from '../errors/omnibus-error.js';

/** Asks the broker whether at least one consumer group subscribes to `destination`. */
export type SubscriberProbe = (destination: string) => Promise<boolean>;

/**
 * The typed rejection of a publish to a destination no consumer group subscribes to (ADR 0005):
 * `NO_SUBSCRIBERS`, retriable (it succeeds once a group exists), naming what to do.
 */
export function noSubscribersError(broker: string, destination: string, cause?: unknown): OmnibusError {
  return new OmnibusError(
    ErrorCodes.NO_SUBSCRIBERS,
    `${broker}: no consumer group subscribes to "${destination}", so nothing was published. ` +
      'Start the consuming service (or register its handlers on this bus) before publishing, ' +
      'then publish again.',
    { retriable: true, ...(cause === undefined ? {} : { cause }) },
  );
}

/**
 * The rule of ADR 0005 for adapters whose broker would accept and drop (or keep for nobody) a
 * message published to a destination without consumer groups: ask the broker before publishing.
 * A positive answer is remembered per destination (no broker round trip on later publishes); a
 * negative one is not, so the first publish after a group appears succeeds. Concurrent checks of
 * one destination share one probe.
 *
 * A group removed after a positive answer is not noticed until the transport is recreated.
 */
export class SubscriberCheck {
  readonly #broker: string;
  readonly #probe: SubscriberProbe;
  readonly #subscribed = new Set<string>();
  readonly #pending = new Map<string, Promise<void>>();

  /** `broker` names the transport in error messages; `probe` asks the broker. */
  constructor(broker: string, probe: SubscriberProbe) {
    this.#broker = broker;
    this.#probe = probe;
  }

  /**
   * `undefined` when `destination` is known to have a group (publish goes on without awaiting
   * anything); otherwise a promise that resolves once the broker confirmed a group, or rejects
   * with `NO_SUBSCRIBERS` (or the probe's own error).
   */
  require(destination: string): Promise<void> | undefined {
    if (this.#subscribed.has(destination)) return undefined;
    let pending = this.#pending.get(destination);
    if (pending === undefined) {
      pending = this.#ask(destination);
      this.#pending.set(destination, pending);
      const clear = (): void => {
        if (this.#pending.get(destination) === pending) this.#pending.delete(destination);
      };
      pending.then(clear, clear);
    }
    return pending;
  }

  /** Remember that `destination` has a group (the adapter provisioned one or the broker routed to one). */
  markSubscribed(destination: string): void {
    this.#subscribed.add(destination);
  }

  /** Forget what is known about `destination` (its groups were deleted): the next publish asks again. */
  forget(destination: string): void {
    this.#subscribed.delete(destination);
  }

  async #ask(destination: string): Promise<void> {
    if (!(await this.#probe(destination))) throw noSubscribersError(this.#broker, destination);
    this.#subscribed.add(destination);
  }
}
