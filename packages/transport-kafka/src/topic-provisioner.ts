import { ErrorCodes, OmnibusError } from '@omnibus/core';
import type { ErrorCode } from '@omnibus/core';
import type { KafkaClientPort } from './kafka-client-port.js';
import { mapKafkaError } from './kafka-error-mapper.js';

/** Settings of {@link TopicProvisioner}. */
export interface TopicProvisionerOptions {
  readonly mode: 'create' | 'verify';
  readonly partitions: number;
  readonly replicationFactor: number;
}

/**
 * Makes sure topics exist before they are used: `create` creates missing ones (with the
 * configured partitions, waiting for their leaders), `verify` fails with
 * `PROVISIONING_FAILED` naming every missing topic. Topics known to exist are cached, so
 * repeated calls cost nothing; concurrent calls for the same topics share one admin round trip.
 * Existing topics are never altered (a partition-count difference is left as is).
 */
export class TopicProvisioner {
  readonly #client: KafkaClientPort;
  readonly #options: TopicProvisionerOptions;
  readonly #known = new Set<string>();
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(client: KafkaClientPort, options: TopicProvisionerOptions) {
    this.#client = client;
    this.#options = options;
  }

  /** Ensure every topic in `names` exists. Rejects with a typed error; idempotent. */
  async ensure(names: readonly string[]): Promise<void> {
    const unique = [...new Set(names)].filter((n) => !this.#known.has(n));
    const waiting = unique
      .map((n) => this.#inFlight.get(n))
      .filter((p): p is Promise<void> => p !== undefined);
    const fresh = unique.filter((n) => !this.#inFlight.has(n));
    if (fresh.length > 0) {
      const work = this.#provision(fresh);
      for (const n of fresh) this.#inFlight.set(n, work);
      waiting.push(
        work.finally(() => {
          for (const n of fresh) this.#inFlight.delete(n);
        }),
      );
    }
    await Promise.all(waiting);
  }

  /**
   * Check that every topic in `names` exists, never creating any (publishing to or consuming
   * from an unprovisioned destination is an error). Rejects with `code`, naming what is missing.
   */
  async require(names: readonly string[], code: ErrorCode, what: string): Promise<void> {
    const unknown = [...new Set(names)].filter((n) => !this.#known.has(n));
    if (unknown.length === 0) return;
    let existing;
    try {
      existing = await this.#client.describeTopics(unknown);
    } catch (error) {
      throw mapKafkaError(error, 'provision', unknown.join(', '));
    }
    for (const t of existing) this.#known.add(t.name);
    const missing = unknown.filter((n) => !this.#known.has(n));
    if (missing.length > 0) {
      throw new OmnibusError(
        code,
        `${what}: Kafka topic(s) not provisioned: ${missing.join(', ')} (call provision first)`,
      );
    }
  }

  /** Forget that `names` exist (they were deleted): the next use asks the cluster again. */
  forget(names: readonly string[]): void {
    for (const n of names) this.#known.delete(n);
  }

  async #provision(names: readonly string[]): Promise<void> {
    try {
      const existing = await this.#client.describeTopics(names);
      for (const t of existing) this.#known.add(t.name);
      const missing = names.filter((n) => !this.#known.has(n));
      if (missing.length === 0) return;
      if (this.#options.mode === 'verify') {
        throw new OmnibusError(
          ErrorCodes.PROVISIONING_FAILED,
          `Kafka topics missing (provisioning mode "verify"): ${missing.join(', ')}`,
        );
      }
      await this.#client.createTopics(
        missing.map((name) => ({
          name,
          partitions: this.#options.partitions,
          replicationFactor: this.#options.replicationFactor,
        })),
      );
      for (const n of missing) this.#known.add(n);
    } catch (error) {
      throw mapKafkaError(error, 'provision', names.join(', '));
    }
  }
}
