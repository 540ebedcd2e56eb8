import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType } from '@nats-io/jetstream';
import type { ConsumerConfig, JetStreamManager, StreamConfig } from '@nats-io/jetstream';
import type { GroupSpec, TopologySpec } from '@omnibus/core';
import { JetStreamErrorCodes, jetStreamErrorCode, provisioningError } from './nats-error-mapper.js';
import type { NatsNames } from './nats-names.js';
import type { NatsTransportOptions } from './nats-options.js';

const NANOS_PER_MS = 1_000_000;

/**
 * Creates (`create`) or checks (`verify`) the JetStream objects of a topology:
 *
 * - per destination one stream with limits retention (a message is kept for `maxAgeMs`, consumed
 *   or not — each group's consumer tracks its own position), file storage by default, and a
 *   duplicate window for publish de-duplication by `Nats-Msg-Id`. Not interest retention: on
 *   a 2.9 server restart streams are restored before their consumers, and a publish landing in
 *   between is acknowledged and then discarded for want of interest (the contract's J1 case
 *   caught it);
 * - per group durable pull consumers with explicit acks, `ackWaitMs` and `maxDeliver`, starting
 *   at the messages published after the group was provisioned (deliver policy `new`): one on the
 *   whole stream for an unordered group, one per partition subject with `max_ack_pending: 1`
 *   for an ordered group;
 * - one dead-letter stream per prefix (limits retention: dead letters are kept until read).
 *
 * Idempotent. Every destination ever provisioned is remembered, so {@link redeclare} can
 * re-create a memory-storage topology after a server restart. Failures reject with
 * `PROVISIONING_FAILED` naming the object.
 */
export class NatsTopology {
  readonly #names: NatsNames;
  readonly #options: NatsTransportOptions;
  readonly #known = new Map<string, Map<string, boolean>>();
  #deadLetterStream: Promise<void> | undefined;

  constructor(names: NatsNames, options: NatsTransportOptions) {
    this.#names = names;
    this.#options = options;
  }

  /** Provision every destination and group of `topology`, and the dead-letter stream. */
  async provision(jsm: JetStreamManager, topology: TopologySpec): Promise<void> {
    await this.#ensureDeadLetterStream(jsm);
    for (const destination of topology.destinations) {
      await this.#ensureStream(jsm, destination.name);
      for (const group of destination.groups) await this.provisionGroup(jsm, destination.name, group);
    }
  }

  /** Check that a destination's stream exists (never creates it). */
  async checkDestination(jsm: JetStreamManager, destination: string): Promise<void> {
    const stream = this.#names.stream(destination);
    try {
      await jsm.streams.info(stream);
    } catch (error) {
      throw provisioningError(error, `stream "${stream}" of destination "${destination}"`);
    }
    this.#remember(destination);
  }

  /**
   * How many consumers the destination's stream has (one round trip). Rejects with a plain error
   * saying so when the stream does not exist, and with the client's error otherwise (a transient
   * one when the server is away or JetStream is starting).
   */
  async consumerCount(jsm: JetStreamManager, destination: string): Promise<number> {
    const stream = this.#names.stream(destination);
    let info;
    try {
      info = await jsm.streams.info(stream);
    } catch (error) {
      if (jetStreamErrorCode(error) === JetStreamErrorCodes.STREAM_NOT_FOUND) {
        throw new Error(`stream "${stream}" does not exist: provision the destination first`, {
          cause: error,
        });
      }
      throw error;
    }
    this.#remember(destination);
    return info.state.consumer_count;
  }

  /**
   * Make sure a group's consumers exist: created in `create` mode, checked in `verify` mode. The
   * destination's stream must exist (it is never created here).
   */
  async provisionGroup(jsm: JetStreamManager, destination: string, group: GroupSpec): Promise<void> {
    const stream = this.#names.stream(destination);
    for (const config of this.consumerConfigs(destination, group)) {
      const what = `consumer "${String(config.durable_name)}" of stream "${stream}"`;
      try {
        if (this.#options.provisioning === 'verify') await jsm.consumers.info(stream, config.durable_name);
        else await jsm.consumers.add(stream, config);
      } catch (error) {
        throw provisioningError(error, what);
      }
    }
    this.#remember(destination).set(group.name, group.ordered);
    if (this.#options.provisioning === 'create') await this.#ensureDeadLetterStream(jsm);
  }

  /** Re-create everything provisioned so far (after a server restart lost a memory topology). */
  async redeclare(jsm: JetStreamManager): Promise<void> {
    if (this.#options.provisioning !== 'create') return;
    this.#deadLetterStream = undefined;
    const destinations = [...this.#known].map(([name, groups]) => ({
      name,
      groups: [...groups].map(([group, ordered]) => ({ name: group, ordered })),
    }));
    await this.provision(jsm, { destinations });
  }

  /** Forget a destination whose stream was deleted: {@link redeclare} no longer re-creates it. */
  forget(destination: string): void {
    this.#known.delete(destination);
  }

  /** The durable consumer configurations of one group. Pure. */
  consumerConfigs(
    destination: string,
    group: GroupSpec,
  ): (Partial<ConsumerConfig> & { durable_name: string })[] {
    const base = {
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.New,
      ack_wait: this.#options.ackWaitMs * NANOS_PER_MS,
      max_deliver: this.#options.maxDeliver,
    };
    if (!group.ordered) {
      return [
        {
          ...base,
          durable_name: this.#names.groupConsumer(group.name),
          filter_subject: this.#names.streamSubjects(destination),
          max_ack_pending: 10_000,
        },
      ];
    }
    return Array.from({ length: this.#names.partitions }, (_, partition) => ({
      ...base,
      durable_name: this.#names.orderedConsumer(group.name, partition),
      filter_subject: this.#names.partitionSubject(destination, partition),
      max_ack_pending: 1,
    }));
  }

  /** The stream configuration of a destination. Pure. */
  streamConfig(destination: string): Partial<StreamConfig> & { name: string } {
    return {
      name: this.#names.stream(destination),
      subjects: [this.#names.streamSubjects(destination)],
      retention: RetentionPolicy.Limits,
      storage: this.#storage(),
      num_replicas: this.#options.replicas,
      max_age: this.#options.maxAgeMs * NANOS_PER_MS,
      duplicate_window: this.#options.duplicateWindowMs * NANOS_PER_MS,
      max_msg_size: -1,
    };
  }

  #storage(): StorageType {
    return this.#options.storage === 'memory' ? StorageType.Memory : StorageType.File;
  }

  #remember(destination: string): Map<string, boolean> {
    let groups = this.#known.get(destination);
    if (groups === undefined) {
      groups = new Map();
      this.#known.set(destination, groups);
    }
    return groups;
  }

  async #ensureStream(jsm: JetStreamManager, destination: string): Promise<void> {
    const config = this.streamConfig(destination);
    await this.#ensure(jsm, config, `stream "${config.name}" of destination "${destination}"`);
    this.#remember(destination);
  }

  #ensureDeadLetterStream(jsm: JetStreamManager): Promise<void> {
    this.#deadLetterStream ??= this.#ensure(
      jsm,
      {
        name: this.#names.deadLetterStream(),
        subjects: [this.#names.deadLetterStreamSubjects()],
        retention: RetentionPolicy.Limits,
        storage: this.#storage(),
        num_replicas: this.#options.replicas,
        max_msg_size: -1,
      },
      `dead-letter stream "${this.#names.deadLetterStream()}"`,
    ).catch((error: unknown) => {
      this.#deadLetterStream = undefined;
      throw error;
    });
    return this.#deadLetterStream;
  }

  #ensure(
    jsm: JetStreamManager,
    config: Partial<StreamConfig> & { name: string },
    what: string,
  ): Promise<void> {
    return ensureNatsStream(jsm, config, this.#options.provisioning === 'verify', what);
  }
}

/**
 * `create`: add the stream unless it exists with this configuration (one added concurrently by
 * another transport with the same configuration is fine); `verify`: only check it exists. Rejects
 * with a `PROVISIONING_FAILED` naming `what`. Shared by the topology and the delay forwarder.
 */
export async function ensureNatsStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
  verifyOnly: boolean,
  what: string,
): Promise<void> {
  try {
    if (verifyOnly) {
      await jsm.streams.info(config.name);
      return;
    }
    try {
      await jsm.streams.add(config);
    } catch (error) {
      if (jetStreamErrorCode(error) !== JetStreamErrorCodes.STREAM_NAME_IN_USE) throw error;
      await jsm.streams.info(config.name);
    }
  } catch (error) {
    throw provisioningError(error, what);
  }
}
