import { ErrorCodes } from '../../errors/error-codes.js';
import { OmnibusError } from '../../errors/omnibus-error.js';
import type { TransportCapabilities } from '../capabilities.js';
import type { Delivery, DeliveryHandler } from '../delivery.js';
import type { OutgoingMessage } from '../outgoing-message.js';
import { mergeCapabilities } from '../routed/merge-capabilities.js';
import { onCombinedStatusChange, worstStatus } from '../routed/combined-status.js';
import { withoutHeaderFilters, type TopologySpec } from '../topology.js';
import type { TopologyInspection } from '../topology-inspection.js';
import type {
  Subscription,
  SubscriptionSpec,
  Transport,
  TransportStatus,
  TransportStatusListener,
} from '../transport.js';
import { InProcessMigrationClaims, type MigrationClaims, type MigrationSide } from './migration-claims.js';

/**
 * The phases of a broker migration, in order:
 * - `dual-write`: publish to both transports, consume from both; each message is handled once.
 * - `drain`: publish to the new transport only; keep consuming the old one until it is empty.
 * - `cut-over`: the new transport only.
 */
export type MigrationPhase = 'dual-write' | 'drain' | 'cut-over';

/** Options of {@link MigrationTransport}. */
export interface MigrationTransportOptions {
  /** The transport migrated away from (the bus takes ownership and closes it). */
  readonly from: Transport;
  /** The transport migrated to (owned and closed too). */
  readonly to: Transport;
  readonly phase: MigrationPhase;
  /** Who handles each message (default: an in-process window). Share it across restarts. */
  readonly claims?: MigrationClaims;
  /** Close `claims` with the transport (default `false`: the caller shares and closes it). */
  readonly ownsClaims?: boolean;
}

/**
 * Moves an application from one broker to another without a stop, and without losing or
 * double-handling a message. Roll the phases out one at a time (every instance of the service
 * in a phase before the next): `dual-write` → `drain` (until the old broker's groups are empty)
 * → `cut-over`.
 *
 * While both transports are consumed, a message can arrive twice (once per broker): the first
 * copy of a (group, message id) claims it ({@link MigrationClaims}), and copies from the other
 * side are acknowledged without being handled — the owner's copy stays on its broker until it is
 * settled, so a crash loses nothing. Retries, dead letters and delivery attempts are the owner
 * broker's: a dead letter is replayed with the owner broker's dead-letter store (its copy
 * returns to the owner side and is handled); re-published through this transport with its id,
 * a copy that reaches only the other broker is dropped (it cannot be told from that broker's
 * own late copy, docs/guides/migrating-brokers.md). Ordering is not declared while two brokers
 * are consumed (a key's messages may be owned by different sides); in `cut-over` the new
 * transport's capabilities apply. In `drain` the new transport's `publishDeduplication` applies (it alone is published to).
 *
 * Publishing in `dual-write` resolves once both transports accepted the message (the new one
 * first); a rejection may follow a publish to the new one only, and publishing again with the
 * same id is safe. Concurrency: like every transport.
 */
export class MigrationTransport implements Transport {
  readonly name: string;
  readonly capabilities: TransportCapabilities;
  readonly phase: MigrationPhase;
  readonly #from: Transport;
  readonly #to: Transport;
  readonly #claims: MigrationClaims;
  readonly #ownsClaims: boolean;

  constructor(options: MigrationTransportOptions) {
    this.#from = options.from;
    this.#to = options.to;
    this.phase = options.phase;
    this.#claims = options.claims ?? new InProcessMigrationClaims();
    this.#ownsClaims = options.ownsClaims === true;
    this.name = `migrate(${options.from.name}→${options.to.name})`;
    this.capabilities = withoutStores(
      this.phase === 'cut-over'
        ? this.#to.capabilities
        : {
            ...mergeCapabilities([this.#from.capabilities, this.#to.capabilities]),
            ordering: 'none',
            atomicBatchPublish: false,
            // dual-write: the old broker delivers a second publish of an id; drain publishes to
            // the new broker only, which deduplicates (or not) as it does alone.
            publishDeduplication: this.phase === 'drain' ? this.#to.capabilities.publishDeduplication : false,
          },
    );
  }

  /** The transports consumed in this phase. */
  get #consumed(): readonly [MigrationSide, Transport][] {
    return this.phase === 'cut-over'
      ? [['to', this.#to]]
      : [
          ['from', this.#from],
          ['to', this.#to],
        ];
  }

  get status(): TransportStatus {
    return worstStatus(this.#consumed.map(([, t]) => t));
  }

  onStatusChange(listener: TransportStatusListener): () => void {
    return onCombinedStatusChange(
      this.#consumed.map(([, t]) => t),
      listener,
    );
  }

  async connect(): Promise<void> {
    await Promise.all(this.#consumed.map(([, t]) => t.connect()));
  }

  async provision(topology: TopologySpec): Promise<void> {
    const forwarded =
      this.capabilities.headerFilters === 'broker' ? topology : withoutHeaderFilters(topology);
    await Promise.all(this.#consumed.map(([, t]) => t.provision(forwarded)));
  }

  /**
   * What exists on each transport consumed in this phase (both in `dual-write` and `drain`, the
   * new one in `cut-over`): the items of both, since `provision` created the topology on both.
   * Rejects with `CONFIGURATION_INVALID` when one of them cannot inspect its topology.
   */
  async inspectTopology(topology: TopologySpec): Promise<TopologyInspection> {
    const items = await Promise.all(
      this.#consumed.map(async ([side, transport]) => {
        if (transport.inspectTopology === undefined)
          throw new OmnibusError(
            ErrorCodes.CONFIGURATION_INVALID,
            `the migration's "${side}" transport (${transport.name}) cannot inspect its topology`,
          );
        return (await transport.inspectTopology(topology)).items;
      }),
    );
    return { items: items.flat() };
  }

  /**
   * Deletes `topology` on each transport consumed in this phase that can delete topology (a bus's
   * per-instance reply destination at stop): `provision` created it on each of them.
   */
  async deleteTopology(topology: TopologySpec): Promise<void> {
    await Promise.all(
      this.#consumed.map(async ([, transport]) => {
        await transport.deleteTopology?.(topology);
      }),
    );
  }

  async publish(destination: string, messages: readonly OutgoingMessage[]): Promise<void> {
    await this.#to.publish(destination, messages);
    if (this.phase === 'dual-write') await this.#from.publish(destination, messages);
  }

  async subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription> {
    const subscriptions: Subscription[] = [];
    // One limit for both sides: the subscription never runs more than spec.concurrency handlers.
    const slots = new Slots(spec.concurrency);
    try {
      for (const [side, transport] of this.#consumed)
        subscriptions.push(
          await transport.subscribe(spec, (delivery) => this.#deliver(side, delivery, slots, onDelivery)),
        );
    } catch (error) {
      await Promise.all(subscriptions.map((s) => s.close(0).catch(() => undefined)));
      throw error;
    }
    return {
      close: async (drainTimeoutMs) => {
        slots.close();
        await Promise.all(subscriptions.map((s) => s.close(drainTimeoutMs)));
      },
    };
  }

  async #deliver(
    side: MigrationSide,
    delivery: Delivery,
    slots: Slots,
    onDelivery: DeliveryHandler,
  ): Promise<void> {
    const owner = await this.#claims.claim(delivery.group, delivery.envelope.id, side);
    if (owner !== side) {
      // The other side's copy is handled (or held by its broker until it is): drop this one.
      await delivery.ack();
      return;
    }
    if (!(await slots.acquire())) {
      // The subscription is closing: give the unstarted message back to its broker.
      await delivery.retry(0);
      return;
    }
    try {
      await onDelivery(delivery);
    } finally {
      slots.release();
    }
  }

  async close(drainTimeoutMs?: number): Promise<void> {
    try {
      await Promise.all([this.#from.close(drainTimeoutMs), this.#to.close(drainTimeoutMs)]);
    } finally {
      if (this.#ownsClaims) await this.#claims.close?.();
    }
  }

  /** The raw clients of both transports. */
  raw(): { readonly from: unknown; readonly to: unknown } {
    return { from: this.#from.raw(), to: this.#to.raw() };
  }
}

/** `capabilities` without a dead-letter store or backlog (this transport exposes neither). Pure. */
function withoutStores(capabilities: TransportCapabilities): TransportCapabilities {
  const { backlog: _backlog, ...rest } = capabilities;
  return { ...rest, deadLetterStore: false };
}

/** A counting semaphore (FIFO) whose waiters are turned away once it is closed. */
class Slots {
  #free: number;
  #closed = false;
  readonly #waiting: ((granted: boolean) => void)[] = [];

  constructor(size: number) {
    this.#free = Math.max(1, size);
  }

  /** Resolves `true` with a slot, or `false` when the semaphore is (or gets) closed first. */
  acquire(): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (this.#free > 0) {
      this.#free -= 1;
      return Promise.resolve(true);
    }
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  release(): void {
    const next = this.#waiting.shift();
    if (next === undefined) this.#free += 1;
    else next(true);
  }

  close(): void {
    this.#closed = true;
    for (const waiter of this.#waiting.splice(0)) waiter(false);
  }
}
