import type { DeadLetterQuery, DeadLetterStore } from '../../dead-letter/dead-letter-store.js';
import { ErrorCodes } from '../../errors/error-codes.js';
import { OmnibusError } from '../../errors/omnibus-error.js';
import type { BacklogReading } from '../backlog.js';
import type { TransportCapabilities } from '../capabilities.js';
import type { DeliveryHandler } from '../delivery.js';
import type { OutgoingMessage } from '../outgoing-message.js';
import { withoutHeaderFilters, type TopologySpec } from '../topology.js';
import type { TopologyInspection } from '../topology-inspection.js';
import type {
  Subscription,
  SubscriptionSpec,
  Transport,
  TransportStatus,
  TransportStatusListener,
} from '../transport.js';
import { onCombinedStatusChange, worstStatus } from './combined-status.js';
import { mergeCapabilities } from './merge-capabilities.js';

/** How a {@link RoutedTransport} chooses a transport for each destination. */
export interface TransportRouting {
  /** The transports by alias (e.g. `stream` → a Kafka transport, `work` → a RabbitMQ one). */
  readonly transports: ReadonlyMap<string, Transport>;
  /** Destination → alias of the transport that carries it. */
  readonly destinations: ReadonlyMap<string, string>;
  /** Alias of the transport for every other destination (replies, events first published late); none: those are refused. */
  readonly fallback?: string;
}

/**
 * One transport made of several: each destination travels on the transport its routing names,
 * so one bus can publish and consume on Kafka, RabbitMQ and SQS at once. The bus builds it
 * from `transports` and `routes` in its configuration; you rarely construct one yourself.
 *
 * Behaviour: `publish`, `subscribe`, `provision`, backlog and dead-letter calls go to the
 * destination's transport (a destination with no route and no fallback rejects with
 * `CONFIGURATION_INVALID`); `connect` and `close` reach every transport (in parallel; `connect`
 * rejects with the first failure). `capabilities` is what all of them guarantee together
 * ({@link mergeCapabilities}); use {@link transportFor} for one destination's own. `status` is
 * the least healthy of the transports' statuses. Concurrency: like every transport.
 */
export class RoutedTransport implements Transport {
  readonly name = 'multi';
  readonly capabilities: TransportCapabilities;
  readonly deadLetters?: DeadLetterStore;
  readonly #routing: TransportRouting;

  constructor(routing: TransportRouting) {
    if (routing.transports.size === 0)
      throw new OmnibusError(
        ErrorCodes.CONFIGURATION_INVALID,
        'a routed transport needs at least one transport',
      );
    for (const alias of [
      ...routing.destinations.values(),
      ...(routing.fallback === undefined ? [] : [routing.fallback]),
    ])
      if (!routing.transports.has(alias))
        throw new OmnibusError(ErrorCodes.CONFIGURATION_INVALID, `no transport named "${alias}" to route to`);
    this.#routing = routing;
    this.capabilities = mergeCapabilities([...routing.transports.values()].map((t) => t.capabilities));
    if (this.capabilities.deadLetterStore === true) this.deadLetters = this.#deadLetterStore();
  }

  /** The transports by alias. */
  get transports(): ReadonlyMap<string, Transport> {
    return this.#routing.transports;
  }

  get status(): TransportStatus {
    return worstStatus([...this.#routing.transports.values()]);
  }

  /**
   * The alias and transport carrying `destination`.
   * @throws OmnibusError `CONFIGURATION_INVALID` when no route and no fallback cover it.
   */
  route(destination: string): { readonly alias: string; readonly transport: Transport } {
    const alias = this.#routing.destinations.get(destination) ?? this.#routing.fallback;
    const transport = alias === undefined ? undefined : this.#routing.transports.get(alias);
    if (alias === undefined || transport === undefined)
      throw new OmnibusError(
        ErrorCodes.CONFIGURATION_INVALID,
        `destination "${destination}" has no transport: add its event (or the destination) to \`routes\`, or set \`transport\` for everything not routed`,
      );
    return { alias, transport };
  }

  onStatusChange(listener: TransportStatusListener): () => void {
    return onCombinedStatusChange([...this.#routing.transports.values()], listener);
  }

  async connect(): Promise<void> {
    await Promise.all([...this.#routing.transports.values()].map((t) => t.connect()));
  }

  async provision(topology: TopologySpec): Promise<void> {
    const parts = new Map<Transport, TopologySpec['destinations'][number][]>();
    for (const destination of topology.destinations) {
      const { transport } = this.route(destination.name);
      parts.set(transport, [...(parts.get(transport) ?? []), destination]);
    }
    const pushDown = this.capabilities.headerFilters === 'broker';
    await Promise.all(
      [...parts].map(([transport, destinations]) =>
        transport.provision(pushDown ? { destinations } : withoutHeaderFilters({ destinations })),
      ),
    );
  }

  publish(destination: string, messages: readonly OutgoingMessage[]): Promise<void> {
    return this.route(destination).transport.publish(destination, messages);
  }

  subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription> {
    return this.route(spec.destination).transport.subscribe(spec, onDelivery);
  }

  async close(drainTimeoutMs?: number): Promise<void> {
    await Promise.all([...this.#routing.transports.values()].map((t) => t.close(drainTimeoutMs)));
  }

  /** Every transport's raw client, by alias. */
  raw(): Record<string, unknown> {
    return Object.fromEntries([...this.#routing.transports].map(([alias, t]) => [alias, t.raw()]));
  }

  async inspectTopology(topology: TopologySpec): Promise<TopologyInspection> {
    const items = await Promise.all(
      topology.destinations.map(async (destination) => {
        const { alias, transport } = this.route(destination.name);
        if (transport.inspectTopology === undefined)
          throw new OmnibusError(
            ErrorCodes.CONFIGURATION_INVALID,
            `transport "${alias}" (${transport.name}) cannot inspect its topology`,
          );
        return (await transport.inspectTopology({ destinations: [destination] })).items;
      }),
    );
    return { items: items.flat() };
  }

  async deleteTopology(topology: TopologySpec): Promise<void> {
    await Promise.all(
      topology.destinations.map(async (destination) => {
        await this.route(destination.name).transport.deleteTopology?.({ destinations: [destination] });
      }),
    );
  }

  readBacklog(destination: string, group: string): Promise<BacklogReading> {
    const { alias, transport } = this.route(destination);
    if (transport.readBacklog === undefined)
      return Promise.reject(
        new OmnibusError(
          ErrorCodes.BACKLOG_UNAVAILABLE,
          `transport "${alias}" (${transport.name}) does not report backlog`,
        ),
      );
    return transport.readBacklog(destination, group);
  }

  #deadLetterStore(): DeadLetterStore {
    const storeOf = (query: DeadLetterQuery): DeadLetterStore => {
      const { alias, transport } = this.route(query.destination);
      if (transport.deadLetters === undefined)
        throw new OmnibusError(
          ErrorCodes.DEAD_LETTER_FAILED,
          `transport "${alias}" (${transport.name}) has no dead-letter store`,
        );
      return transport.deadLetters;
    };
    return {
      list: async (query) => storeOf(query).list(query),
      replay: async (query, options) => storeOf(query).replay(query, options),
      purge: async (query, options) => storeOf(query).purge(query, options),
    };
  }
}

/**
 * The transport that carries `destination`: the routed one for a {@link RoutedTransport},
 * otherwise `transport` itself. Use it for the capabilities and name of one destination.
 * @throws OmnibusError `CONFIGURATION_INVALID` when a routed transport has no route for it.
 */
export function transportFor(transport: Transport, destination: string): Transport {
  return transport instanceof RoutedTransport ? transport.route(destination).transport : transport;
}
