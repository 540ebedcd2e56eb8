import type { Channel } from 'amqplib';
import type { GroupSpec, TopologySpec } from '@omnibus/core';
import { ErrorCodes, OmnibusError } from '@omnibus/core';
import { provisioningError } from './rabbitmq-error-mapper.js';
import type { RabbitMqTransportOptions } from './rabbitmq-options.js';
import { RabbitMqDelayTiers } from './rabbitmq-delay-tiers.js';

/** Queue flavour used for every queue of one transport. */
export type RabbitMqQueueType = 'quorum' | 'classic';

const MAX_NAME_BYTES = 255;

/** Escape `%`, `/` and `~` so that `/`-separated names cannot collide. */
function segment(value: string): string {
  return value.replace(/[%/~]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function checked(name: string): string {
  if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) {
    throw new OmnibusError(
      ErrorCodes.CONFIGURATION_INVALID,
      `RabbitMQ name "${name}" is longer than ${String(MAX_NAME_BYTES)} bytes: shorten the prefix, destination or group`,
    );
  }
  return name;
}

/**
 * Naming scheme of every exchange and queue, all under one prefix. Segments are separated by
 * `/` and escaped, so no two (destination, group) pairs map to one name and reserved names
 * (`~delay`, `~redeliver`, `~dead-letter`) cannot be produced by user input. Pure.
 */
export class RabbitMqNames {
  readonly #prefix: string;

  constructor(prefix: string) {
    this.#prefix = prefix;
  }

  /** Fanout exchange a destination is published to: `<prefix>/<destination>`. */
  destinationExchange(destination: string): string {
    return checked(`${this.#prefix}/${segment(destination)}`);
  }

  /** Durable queue of one consumer group: `<prefix>/<destination>/<group>`. */
  groupQueue(destination: string, group: string): string {
    return checked(`${this.#prefix}/${segment(destination)}/${segment(group)}`);
  }

  /** Dead-letter queue of one consumer group: `<prefix>/<destination>/<group>/~dead-letter`. */
  deadLetterQueue(destination: string, group: string): string {
    return checked(`${this.#prefix}/${segment(destination)}/${segment(group)}/~dead-letter`);
  }

  /**
   * Headers exchange between a destination's fanout exchange and one group's queue, for a group
   * whose handlers all filter on headers (filter push-down): `<prefix>/<destination>/<group>/~filter`.
   */
  filterExchange(destination: string, group: string): string {
    return checked(`${this.#prefix}/${segment(destination)}/${segment(group)}/~filter`);
  }

  /**
   * Alternate exchange of every filter exchange: a message no group filter wants goes there and
   * on to the zero-length {@link subscribersQueue}, so it counts as routed (its publish is
   * confirmed, never returned as `NO_SUBSCRIBERS`) and is dropped: `<prefix>/~filtered`.
   */
  filteredExchange(): string {
    return `${this.#prefix}/~filtered`;
  }

  /** Fanout exchange in front of one delay tier's wait queue: `<prefix>/~delay/<ms>`. */
  delayExchange(tierMs: number): string {
    return `${this.#prefix}/~delay/${String(tierMs)}`;
  }

  /** TTL wait queue of one delay tier (no consumers): `<prefix>/~delay/<ms>`. */
  delayQueue(tierMs: number): string {
    return `${this.#prefix}/~delay/${String(tierMs)}`;
  }

  /**
   * Direct exchange the wait queues dead-letter into. The routing key a message carries into a
   * wait queue says where it goes next: a group queue's name (retry for that group only) or a
   * destination exchange's name (delayed publish to every group).
   */
  redeliverExchange(): string {
    return `${this.#prefix}/~redeliver`;
  }

  /**
   * Direct exchange that records which destinations have groups: every provisioned group binds
   * {@link subscribersQueue} to it with the destination exchange's name as routing key (one
   * binding per group, told apart by a group argument). A `mandatory` publish to it comes back
   * unroutable exactly when the destination has no group: `<prefix>/~subscribers`.
   */
  subscribersExchange(): string {
    return `${this.#prefix}/~subscribers`;
  }

  /** The queue behind {@link subscribersExchange}: holds nothing (`x-max-length` 0). */
  subscribersQueue(): string {
    return `${this.#prefix}/~subscribers`;
  }
}

/** Binding argument that makes each group's subscriber marker a binding of its own. */
const MARKER_GROUP_ARGUMENT = 'x-omnibus-group';

/** Arguments of one group's subscriber-marker binding (see {@link RabbitMqNames.subscribersExchange}). */
export function subscriberMarkerArguments(group: string): Record<string, unknown> {
  return { [MARKER_GROUP_ARGUMENT]: group };
}

/**
 * The subscribers queue keeps no message: a probe routed to it counts as routed (confirmed, not
 * returned) and is dropped at once. Classic whatever the transport's queue type: it holds nothing
 * worth replicating.
 */
export const SUBSCRIBERS_QUEUE_ARGUMENTS: Readonly<Record<string, unknown>> = Object.freeze({
  'x-queue-type': 'classic',
  'x-max-length': 0,
});

/**
 * Arguments of one binding from a group's filter exchange to its queue: every header of `filter`
 * with exactly its value (`x-match: all`). RabbitMQ ignores binding arguments starting with `x-`
 * when matching, so such a header is not filtered on the broker (the router still filters it).
 */
export function filterBindingArguments(filter: Readonly<Record<string, string>>): Record<string, unknown> {
  return { ...filter, 'x-match': 'all' };
}

/** Arguments of a group or dead-letter queue. */
export function queueArguments(
  queueType: RabbitMqQueueType,
  singleActiveConsumer: boolean,
): Record<string, unknown> {
  const args: Record<string, unknown> = { 'x-queue-type': queueType };
  if (singleActiveConsumer) args['x-single-active-consumer'] = true;
  return args;
}

/**
 * Arguments of a delay tier's wait queue: a fixed per-queue TTL (so messages expire strictly in
 * FIFO order, no head-of-line blocking) dead-lettering into the redeliver exchange. Quorum wait
 * queues use at-least-once dead-lettering (RabbitMQ ≥ 3.10), which requires `reject-publish`.
 */
export function delayQueueArguments(
  queueType: RabbitMqQueueType,
  tierMs: number,
  redeliverExchange: string,
): Record<string, unknown> {
  const args: Record<string, unknown> = {
    'x-queue-type': queueType,
    'x-message-ttl': tierMs,
    'x-dead-letter-exchange': redeliverExchange,
  };
  if (queueType === 'quorum') {
    args['x-dead-letter-strategy'] = 'at-least-once';
    args['x-overflow'] = 'reject-publish';
  }
  return args;
}

/**
 * Declares (provisioning `create`) or checks (`verify`) the transport's exchanges, queues and
 * bindings, and remembers everything it provisioned so that {@link redeclare} can restore it on
 * a new connection (e.g. after a broker restart that lost non-durable state).
 *
 * Idempotent. Every run uses its own short-lived channel, because a failed declare closes the
 * channel it ran on. Concurrency: runs may overlap (AMQP declares are idempotent).
 */
export class RabbitMqTopology {
  readonly names: RabbitMqNames;
  /** Which delay tiers exist; missing ones are declared on first use (see RabbitMqDelayTiers). */
  readonly delayTiers: RabbitMqDelayTiers;
  readonly #options: RabbitMqTransportOptions;
  readonly #destinations = new Map<string, Map<string, GroupSpec>>();
  /** Destinations found to exist (passive check) but not provisioned here. */
  readonly #existing = new Set<string>();

  constructor(options: RabbitMqTransportOptions) {
    this.#options = options;
    this.names = new RabbitMqNames(options.prefix);
    this.delayTiers = new RabbitMqDelayTiers(this.names, options.delayTiersMs);
  }

  /** Declare one delay tier (exchange, TTL wait queue, binding) on a channel from `openChannel`. */
  async declareDelayTier(openChannel: () => Promise<Channel>, tierMs: number): Promise<void> {
    await this.#run(openChannel, (channel) => this.#tier(channel, tierMs));
  }

  /** True when `destination` was provisioned or found to exist through this topology. */
  knows(destination: string): boolean {
    return this.#destinations.has(destination) || this.#existing.has(destination);
  }

  /**
   * Declare or verify `spec` on a channel from `openChannel`; remembers it on success. With
   * `includeBase` (default) the shared part (redeliver exchange, delay tiers) is declared too.
   */
  async provision(
    openChannel: () => Promise<Channel>,
    spec: TopologySpec,
    includeBase = true,
  ): Promise<void> {
    await this.#run(openChannel, async (channel) => {
      if (includeBase) await this.#base(channel);
      for (const destination of spec.destinations) {
        await this.#destination(channel, destination.name);
        for (const group of destination.groups) await this.#group(channel, destination.name, group);
      }
    });
    for (const destination of spec.destinations) this.#remember(destination.name, destination.groups);
  }

  /**
   * Check (passively) that a destination's exchange exists, without creating it: publishing and
   * subscribing require a provisioned destination. Rejects with `PROVISIONING_FAILED` naming it.
   */
  async checkDestination(openChannel: () => Promise<Channel>, destination: string): Promise<void> {
    const exchange = this.names.destinationExchange(destination);
    await this.#run(openChannel, (channel) =>
      step(`exchange "${exchange}"`, () => channel.checkExchange(exchange)),
    );
    this.#existing.add(destination);
  }

  /**
   * Make one group of an existing destination ready to consume: check the destination exchange,
   * then declare (create) or check (verify) the group's queues and bindings (through the group's
   * filter exchange when it was provisioned with header filters).
   */
  async provisionGroup(
    openChannel: () => Promise<Channel>,
    destination: string,
    group: GroupSpec,
  ): Promise<void> {
    const exchange = this.names.destinationExchange(destination);
    // A subscription does not know the group's header filters: keep those provisioned before.
    const headerFilters =
      group.headerFilters ?? this.#destinations.get(destination)?.get(group.name)?.headerFilters;
    const spec = headerFilters === undefined ? group : { ...group, headerFilters };
    await this.#run(openChannel, async (channel) => {
      await step(`exchange "${exchange}"`, () => channel.checkExchange(exchange));
      await this.#group(channel, destination, spec);
    });
    this.#remember(destination, [spec]);
  }

  /** Stop re-declaring `destination` after reconnects (it was deleted). */
  forget(destination: string): void {
    this.#destinations.delete(destination);
    this.#existing.delete(destination);
  }

  #remember(destination: string, groups: readonly GroupSpec[]): void {
    const known = this.#destinations.get(destination) ?? new Map<string, GroupSpec>();
    for (const group of groups) known.set(group.name, group);
    this.#destinations.set(destination, known);
  }

  /** Declare again everything provisioned so far (create mode only; verify mode checks nothing new). */
  redeclare(openChannel: () => Promise<Channel>): Promise<void> {
    const destinations = [...this.#destinations].map(([name, groups]) => ({
      name,
      groups: [...groups.values()],
    }));
    if (this.#options.provisioning !== 'create') return Promise.resolve();
    return this.provision(openChannel, { destinations });
  }

  async #run(openChannel: () => Promise<Channel>, work: (channel: Channel) => Promise<void>): Promise<void> {
    let channel: Channel | undefined;
    try {
      channel = await openChannel();
    } catch (error) {
      throw provisioningError(error, 'a channel');
    }
    try {
      await work(channel);
    } finally {
      await channel.close().catch(() => undefined);
    }
  }

  get #create(): boolean {
    return this.#options.provisioning === 'create';
  }

  get #queueType(): RabbitMqQueueType {
    return this.#options.queueType as RabbitMqQueueType;
  }

  async #base(channel: Channel): Promise<void> {
    const redeliver = this.names.redeliverExchange();
    const subscribers = this.names.subscribersExchange();
    const subscribersQueue = this.names.subscribersQueue();
    if (!this.#create) {
      await step(`exchange "${redeliver}"`, () => channel.checkExchange(redeliver));
      await step(`exchange "${subscribers}"`, () => channel.checkExchange(subscribers));
      await step(`queue "${subscribersQueue}"`, () => channel.checkQueue(subscribersQueue));
      for (const tier of this.#options.delayTiersMs) {
        const queue = this.names.delayQueue(tier);
        await step(`exchange "${this.names.delayExchange(tier)}"`, () =>
          channel.checkExchange(this.names.delayExchange(tier)),
        );
        await step(`queue "${queue}"`, () => channel.checkQueue(queue));
      }
      this.delayTiers.markDeclared(this.#options.delayTiersMs);
      return;
    }
    await step(`exchange "${redeliver}"`, () =>
      channel.assertExchange(redeliver, 'direct', { durable: true }),
    );
    await step(`exchange "${subscribers}"`, () =>
      channel.assertExchange(subscribers, 'direct', { durable: true }),
    );
    await step(`queue "${subscribersQueue}"`, () =>
      channel.assertQueue(subscribersQueue, { durable: true, arguments: SUBSCRIBERS_QUEUE_ARGUMENTS }),
    );
    // Lazy: only the tiers used so far (again after a reconnect); eager: every configured tier.
    const tiers =
      this.#options.delayTierProvisioning === 'eager' ? this.#options.delayTiersMs : this.delayTiers.declared;
    for (const tier of tiers) await this.#tier(channel, tier);
    this.delayTiers.markDeclared(tiers);
  }

  async #tier(channel: Channel, tier: number): Promise<void> {
    const redeliver = this.names.redeliverExchange();
    const exchange = this.names.delayExchange(tier);
    const queue = this.names.delayQueue(tier);
    const args = delayQueueArguments(this.#queueType, tier, redeliver);
    await step(`exchange "${exchange}"`, () => channel.assertExchange(exchange, 'fanout', { durable: true }));
    await step(`queue "${queue}"`, () => channel.assertQueue(queue, { durable: true, arguments: args }));
    await step(`binding of "${queue}"`, () => channel.bindQueue(queue, exchange, ''));
  }

  async #destination(channel: Channel, destination: string): Promise<void> {
    const exchange = this.names.destinationExchange(destination);
    if (!this.#create) {
      await step(`exchange "${exchange}"`, () => channel.checkExchange(exchange));
      return;
    }
    await step(`exchange "${exchange}"`, () => channel.assertExchange(exchange, 'fanout', { durable: true }));
    await step(`binding of "${exchange}"`, () =>
      channel.bindExchange(exchange, this.names.redeliverExchange(), exchange),
    );
  }

  async #group(channel: Channel, destination: string, group: GroupSpec): Promise<void> {
    const queue = this.names.groupQueue(destination, group.name);
    const deadLetter = this.names.deadLetterQueue(destination, group.name);
    if (!this.#create) {
      await step(`queue "${queue}"`, () => channel.checkQueue(queue));
      await step(`queue "${deadLetter}"`, () => channel.checkQueue(deadLetter));
      return;
    }
    const groupArgs = queueArguments(this.#queueType, group.ordered);
    const deadLetterArgs = queueArguments(this.#queueType, false);
    await step(`queue "${queue}"`, () => channel.assertQueue(queue, { durable: true, arguments: groupArgs }));
    await step(`queue "${deadLetter}"`, () =>
      channel.assertQueue(deadLetter, { durable: true, arguments: deadLetterArgs }),
    );
    const exchange = this.names.destinationExchange(destination);
    if (group.headerFilters === undefined) {
      await step(`binding of "${queue}"`, () => channel.bindQueue(queue, exchange, ''));
    } else {
      await this.#filterPath(channel, destination, group.name, group.headerFilters);
    }
    // Retries (routing key = queue name) reach the queue directly, past any filter.
    await step(`binding of "${queue}"`, () =>
      channel.bindQueue(queue, this.names.redeliverExchange(), queue),
    );
    await step(`subscriber marker of "${queue}"`, () =>
      channel.bindQueue(
        this.names.subscribersQueue(),
        this.names.subscribersExchange(),
        exchange,
        subscriberMarkerArguments(group.name),
      ),
    );
  }

  /**
   * Filter push-down: route the destination's fanout exchange to the group's queue through the
   * group's headers exchange, one `x-match: all` binding per filter, and only then remove the
   * direct binding, so no message is missed while switching. AMQP cannot list bindings, so a
   * filter binding of an earlier deploy stays (it only widens what the queue receives; the router
   * still filters). Messages no binding wants go to the alternate exchange and are dropped.
   */
  async #filterPath(
    channel: Channel,
    destination: string,
    group: string,
    filters: readonly Readonly<Record<string, string>>[],
  ): Promise<void> {
    const queue = this.names.groupQueue(destination, group);
    const exchange = this.names.destinationExchange(destination);
    const filter = this.names.filterExchange(destination, group);
    const filtered = this.names.filteredExchange();
    await step(`exchange "${filtered}"`, () => channel.assertExchange(filtered, 'fanout', { durable: true }));
    await step(`queue "${this.names.subscribersQueue()}"`, () =>
      channel.assertQueue(this.names.subscribersQueue(), {
        durable: true,
        arguments: SUBSCRIBERS_QUEUE_ARGUMENTS,
      }),
    );
    await step(`binding of "${filtered}"`, () =>
      channel.bindQueue(this.names.subscribersQueue(), filtered, ''),
    );
    await step(`exchange "${filter}"`, () =>
      channel.assertExchange(filter, 'headers', { durable: true, alternateExchange: filtered }),
    );
    for (const headers of filters) {
      await step(`filter binding of "${queue}"`, () =>
        channel.bindQueue(queue, filter, '', filterBindingArguments(headers)),
      );
    }
    await step(`binding of "${filter}"`, () => channel.bindExchange(filter, exchange, ''));
    await step(`binding of "${queue}"`, () => channel.unbindQueue(queue, exchange, ''));
  }
}

/** Run one declare/check, naming the exchange or queue it was about when it fails. */
async function step(what: string, operation: () => Promise<unknown>): Promise<void> {
  try {
    await operation();
  } catch (error) {
    throw provisioningError(error, what);
  }
}
