import { ErrorCodes } from '../../errors/error-codes.js';
import { OmnibusError } from '../../errors/omnibus-error.js';
import type { MessageEnvelope } from '../../message/envelope.js';
import type { TransportCapabilities } from '../../transport/capabilities.js';
import type { DeadLetterReason, Delivery, DeliveryHandler } from '../../transport/delivery.js';
import type { OutgoingMessage } from '../../transport/outgoing-message.js';
import type { TopologySpec } from '../../transport/topology.js';
import type {
  Subscription,
  SubscriptionSpec,
  Transport,
  TransportStatus,
  TransportStatusListener,
} from '../../transport/transport.js';
import type { Decision, DecisionSource, FaultKind } from './schedule.js';

/** One delivery the adversary made, for the report of a failing schedule. */
export interface ScheduledDelivery {
  readonly step: number;
  readonly type: string;
  readonly id: string;
  readonly group: string;
  /** The message's partition key, if any. */
  readonly key?: string;
  readonly attempt: number;
  /** Index among the deliverable messages (0: the oldest). */
  readonly pick: number;
  /** How many messages were deliverable at this step. */
  readonly choices: number;
  /** The fault applied (`none` when the decision's fault did not apply to this delivery). */
  readonly fault: FaultKind;
  /** For `crash`: the publish at which the process died (0: after the handler, which published less). */
  readonly at?: number;
  /** How the router settled it: `acked`, `retried`, `dead-lettered`. */
  readonly outcome: string;
}

interface Waiting {
  readonly seq: number;
  readonly envelope: MessageEnvelope;
  readonly destination: string;
  readonly group: string;
  readonly attempt: number;
}

const CAPABILITIES: TransportCapabilities = {
  ordering: 'per-key',
  delayedDelivery: { maxDelayMs: 2_147_483_647, emulated: true },
  maxRetryDelayMs: 2_147_483_647,
  maxPayloadBytes: 16 * 1024 * 1024,
  competingConsumers: true,
  fanOut: true,
  survivesBrokerRestart: false,
  noDuplicatesWithoutFaults: true,
  publishDeduplication: false,
  atomicBatchPublish: true,
  publishWithoutSubscribers: 'unchecked',
};

/**
 * The idempotency harness's transport: it holds every published message and delivers them one
 * at a time when {@link drain} is called, in the order and with the faults a
 * {@link DecisionSource} chooses — always within the delivery contract: a message waits behind
 * the earlier ones of its partition key (a keyless message is its own key) and of its group;
 * retries and redeliveries come back before them, with `deliveryAttempt` + 1; delays are not
 * waited (time is compressed). Faults, at most one per message and group: `duplicate` (the
 * message is delivered again after its ack, as attempt 1: a producer retry), `ack-lost` (the
 * process died after the handler but before the ack: redelivered as the next attempt),
 * `crash` (the process died at the handler's `at`-th publish: that and later publishes of the
 * delivery fail and it is redelivered, so effects before that point happened once already).
 * Not for production: single-threaded, in-process, unbounded.
 */
export class AdversaryTransport implements Transport {
  readonly name = 'in-memory';
  readonly capabilities = CAPABILITIES;
  status: TransportStatus = 'idle';
  /** Every delivery made, in order. */
  readonly deliveries: ScheduledDelivery[] = [];
  readonly #groups = new Map<string, Set<string>>();
  readonly #handlers = new Map<string, DeliveryHandler>();
  readonly #waiting: Waiting[] = [];
  readonly #faulted = new Set<string>();
  #seq = 0;
  #crash: { at: number; published: number; crashed: boolean } | undefined;

  onStatusChange(_listener: TransportStatusListener): () => void {
    return () => undefined;
  }

  connect(): Promise<void> {
    this.status = 'ready';
    return Promise.resolve();
  }

  provision(topology: TopologySpec): Promise<void> {
    for (const destination of topology.destinations) {
      const groups = this.#groups.get(destination.name) ?? new Set<string>();
      for (const group of destination.groups) groups.add(group.name);
      this.#groups.set(destination.name, groups);
    }
    return Promise.resolve();
  }

  publish(destination: string, messages: readonly OutgoingMessage[]): Promise<void> {
    const crash = this.#crash;
    if (crash !== undefined) {
      crash.published += 1;
      if (crash.crashed || crash.published >= crash.at) {
        crash.crashed = true;
        return Promise.reject(
          new OmnibusError(ErrorCodes.PUBLISH_FAILED, 'simulated crash: the process died at this publish', {
            retriable: true,
          }),
        );
      }
    }
    for (const { envelope } of messages)
      for (const group of this.#groups.get(destination) ?? [])
        this.#waiting.push({ seq: this.#seq++, envelope, destination, group, attempt: 1 });
    return Promise.resolve();
  }

  subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription> {
    this.#handlers.set(`${spec.destination}\u0000${spec.group}`, onDelivery);
    return Promise.resolve({ close: () => Promise.resolve() });
  }

  close(): Promise<void> {
    this.status = 'closed';
    return Promise.resolve();
  }

  raw(): unknown {
    return this;
  }

  /**
   * Deliver until nothing waits, taking one decision per delivery.
   * @throws Error when more than `maxSteps` deliveries were needed (a handler loop).
   */
  async drain(decisions: DecisionSource, maxSteps: number): Promise<void> {
    while (this.#waiting.length > 0) {
      if (this.deliveries.length >= maxSteps)
        throw new Error(`the handlers were still producing messages after ${String(maxSteps)} deliveries`);
      await this.#step(decisions.next());
    }
  }

  async #step(decision: Decision): Promise<void> {
    const choices = this.#deliverable();
    const index = decision.pick % choices.length;
    const item = choices[index] as Waiting;
    this.#waiting.splice(this.#waiting.indexOf(item), 1);
    const mark = `${item.envelope.id}\u0000${item.group}`;
    const fault = decision.fault !== 'none' && !this.#faulted.has(mark) ? decision.fault : 'none';
    if (fault !== 'none') this.#faulted.add(mark);
    this.#crash = fault === 'crash' ? { at: decision.at, published: 0, crashed: false } : undefined;
    let outcome = 'unsettled';
    const settle = (kind: string, then: () => void): Promise<void> => {
      if (outcome === 'unsettled') {
        outcome = kind;
        then();
      }
      return Promise.resolve();
    };
    const again = (attempt: number): void => {
      this.#waiting.push({ ...item, attempt });
    };
    const delivery: Delivery = {
      envelope: item.envelope,
      deliveryAttempt: item.attempt,
      receivedAt: new Date(),
      destination: item.destination,
      group: item.group,
      ack: () =>
        settle('acked', () => {
          if (fault === 'duplicate') this.#waiting.push({ ...item, attempt: 1 });
          else if (fault === 'ack-lost') again(item.attempt + 1);
        }),
      retry: () => settle('retried', () => again(item.attempt + 1)),
      deadLetter: (_reason: DeadLetterReason) => settle('dead-lettered', () => undefined),
      raw: undefined,
    };
    const handler = this.#handlers.get(`${item.destination}\u0000${item.group}`);
    if (handler === undefined)
      throw new Error(`no subscription for group "${item.group}" of "${item.destination}"`);
    let hit = false;
    try {
      await handler(delivery);
    } finally {
      hit = this.#crash?.crashed === true;
      this.#crash = undefined;
      // The process died during the handler (at a publish) or, when the handler published less,
      // right after it: whatever the router settled after that never reached the broker.
      if (fault === 'crash' && outcome !== 'retried') again(item.attempt + 1);
    }
    this.deliveries.push({
      step: this.deliveries.length + 1,
      type: item.envelope.type,
      id: item.envelope.id,
      group: item.group,
      ...(item.envelope.partitionKey === undefined ? {} : { key: item.envelope.partitionKey }),
      attempt: item.attempt,
      pick: index,
      choices: choices.length,
      fault,
      ...(fault === 'crash' ? { at: hit ? decision.at : 0 } : {}),
      outcome,
    });
  }

  /** The head of each (group, partition key) queue, oldest first. */
  #deliverable(): Waiting[] {
    const heads = new Map<string, Waiting>();
    for (const item of this.#waiting) {
      const key = `${item.group}\u0000${item.envelope.partitionKey ?? `\u0001${item.envelope.id}`}`;
      const head = heads.get(key);
      if (head === undefined || item.seq < head.seq) heads.set(key, item);
    }
    return [...heads.values()].sort((a, b) => a.seq - b.seq);
  }
}
