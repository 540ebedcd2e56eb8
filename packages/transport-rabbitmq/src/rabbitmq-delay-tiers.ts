import { isOmnibusError } from '@omnibus/core';
import { publishError } from './rabbitmq-error-mapper.js';
import type { PublishRequest } from './rabbitmq-publisher.js';
import type { RabbitMqNames } from './rabbitmq-topology.js';

/** What settlement and the transport need of a publisher: confirmed publishing of requests. */
export interface RabbitMqPublishPort {
  /** Send every request and resolve once the broker confirmed all of them (see RabbitMqPublisher). */
  publish(requests: readonly PublishRequest[], timeoutMs: number): Promise<void>;
}

/** Declares one delay tier (its fanout exchange, TTL wait queue and binding) on a fresh channel. */
export type DeclareDelayTier = (tierMs: number) => Promise<void>;

/**
 * Which delay tiers exist on the broker, and the declaration of a missing one on its first use.
 *
 * With `delayTierProvisioning: 'lazy'` (the default) a prefix starts with no wait queue at all; the
 * first retry or delayed publish that needs tier T declares T's exchange and queue (single-flight per
 * tier), and later publishes to T pay nothing. An application that only ever retries after 100 ms,
 * 200 ms and 400 ms keeps 3 wait queues instead of 16. Declared tiers are re-declared after a
 * reconnect with the rest of the topology. With `'eager'` every configured tier is declared at
 * provisioning time, as before; `verify` mode checks all of them there and declares nothing.
 */
export class RabbitMqDelayTiers {
  readonly #tierOfExchange = new Map<string, number>();
  readonly #declared = new Set<number>();
  readonly #pending = new Map<number, Promise<void>>();
  #declare: DeclareDelayTier | undefined;

  constructor(names: RabbitMqNames, tiersMs: readonly number[]) {
    for (const tier of tiersMs) this.#tierOfExchange.set(names.delayExchange(tier), tier);
  }

  /** Where missing tiers get declared (set by the transport once it can open channels). */
  bind(declare: DeclareDelayTier): void {
    this.#declare = declare;
  }

  /** Tiers known to exist (declared or checked here), in ascending order. */
  get declared(): readonly number[] {
    return [...this.#declared].sort((a, b) => a - b);
  }

  /** Record tiers as existing (eager provisioning, verify mode, or a successful re-declare). */
  markDeclared(tiersMs: Iterable<number>): void {
    for (const tier of tiersMs) this.#declared.add(tier);
  }

  /**
   * Resolves once every delay tier targeted by `requests` exists; `undefined` when none needs
   * declaring (the common case: no delay, or the tier was declared before), so the caller's hot
   * path adds no await. Rejects with `PUBLISH_FAILED` naming the destination when a tier cannot be
   * declared.
   */
  ensure(requests: readonly PublishRequest[]): Promise<void> | undefined {
    let waits: Promise<void>[] | undefined;
    for (const request of requests) {
      const tier = this.#tierOfExchange.get(request.exchange);
      if (tier === undefined || this.#declared.has(tier)) continue;
      (waits ??= []).push(
        this.#declareOnce(tier).catch((error: unknown) => {
          throw isOmnibusError(error) && error.code !== 'PROVISIONING_FAILED'
            ? error
            : publishError(error, request.destination);
        }),
      );
    }
    return waits === undefined ? undefined : Promise.all(waits).then(() => undefined);
  }

  #declareOnce(tier: number): Promise<void> {
    let pending = this.#pending.get(tier);
    if (pending === undefined) {
      const declare = this.#declare;
      if (declare === undefined)
        return Promise.reject(new Error('delay tiers are not bound to a connection'));
      pending = declare(tier)
        .then(() => {
          this.#declared.add(tier);
        })
        .finally(() => this.#pending.delete(tier));
      this.#pending.set(tier, pending);
    }
    return pending;
  }
}

/** A publisher that declares a missing delay tier before the first publish to it. */
export function delayTierPublisher(
  publisher: RabbitMqPublishPort,
  tiers: RabbitMqDelayTiers,
): RabbitMqPublishPort {
  return {
    publish(requests, timeoutMs) {
      const ready = tiers.ensure(requests);
      return ready === undefined
        ? publisher.publish(requests, timeoutMs)
        : ready.then(() => publisher.publish(requests, timeoutMs));
    },
  };
}
