// A tiny scriptable Transport for router and bus unit tests (no broker, no in-memory transport).
import type {
  DeadLetterReason,
  Delivery,
  DeliveryHandler,
  MessageEnvelope,
  OutgoingMessage,
  Subscription,
  SubscriptionSpec,
  TopologySpec,
  Transport,
  TransportCapabilities,
  TransportStatus,
  TransportStatusListener,
} from '../../src/index.js';

export type Settlement =
  | { readonly kind: 'ack' }
  | { readonly kind: 'retry'; readonly delayMs: number }
  | { readonly kind: 'dead-letter'; readonly reason: DeadLetterReason };

export const FAKE_CAPABILITIES: TransportCapabilities = {
  ordering: 'per-key',
  delayedDelivery: { maxDelayMs: 60_000, emulated: false },
  maxRetryDelayMs: 60_000,
  maxPayloadBytes: 1024,
  competingConsumers: true,
  fanOut: true,
  survivesBrokerRestart: false,
  noDuplicatesWithoutFaults: true,
  publishDeduplication: false,
  atomicBatchPublish: true,
};

interface Subscriber {
  readonly spec: SubscriptionSpec;
  readonly onDelivery: DeliveryHandler;
  closed: boolean;
}

/** Records every call; `publish` delivers to each subscribed group (redelivering on retry when `redeliver`). */
export class FakeTransport implements Transport {
  readonly name = 'fake';
  capabilities: TransportCapabilities;
  status: TransportStatus = 'idle';
  readonly published: { destination: string; messages: readonly OutgoingMessage[] }[] = [];
  readonly provisioned: TopologySpec[] = [];
  readonly subscribers: Subscriber[] = [];
  readonly settlements: {
    envelope: MessageEnvelope;
    attempt: number;
    group: string;
    settlement: Settlement;
  }[] = [];
  readonly listeners = new Set<TransportStatusListener>();
  failSettlement = false;
  failPublish: Error | undefined;
  redeliver = true;
  closeCalls = 0;
  connectCalls = 0;

  constructor(capabilities: Partial<TransportCapabilities> = {}) {
    this.capabilities = { ...FAKE_CAPABILITIES, ...capabilities };
  }

  onStatusChange(listener: TransportStatusListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  setStatus(status: TransportStatus, error?: Error): void {
    this.status = status;
    for (const listener of this.listeners) listener(status, error);
  }

  connect(): Promise<void> {
    this.connectCalls += 1;
    this.setStatus('ready');
    return Promise.resolve();
  }

  provision(topology: TopologySpec): Promise<void> {
    this.provisioned.push(topology);
    return Promise.resolve();
  }

  publish(destination: string, messages: readonly OutgoingMessage[]): Promise<void> {
    if (this.failPublish !== undefined) return Promise.reject(this.failPublish);
    this.published.push({ destination, messages });
    for (const message of messages) {
      for (const subscriber of this.subscribers.filter(
        (s) => s.spec.destination === destination && !s.closed,
      )) {
        setTimeout(() => void this.deliver(subscriber, message.envelope, 1), message.delayMs ?? 0);
      }
    }
    return Promise.resolve();
  }

  subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription> {
    const subscriber: Subscriber = { spec, onDelivery, closed: false };
    this.subscribers.push(subscriber);
    return Promise.resolve({
      close: () => {
        subscriber.closed = true;
        return Promise.resolve();
      },
    });
  }

  close(): Promise<void> {
    this.closeCalls += 1;
    this.setStatus('closed');
    return Promise.resolve();
  }

  raw(): unknown {
    return undefined;
  }

  /** Hand one envelope to the first subscriber of destination/group; resolves with how it was settled. */
  async inject(
    envelope: MessageEnvelope,
    attempt = 1,
    destination?: string,
    group?: string,
  ): Promise<Settlement> {
    const subscriber = this.subscribers.find(
      (s) =>
        (destination === undefined || s.spec.destination === destination) &&
        (group === undefined || s.spec.group === group),
    );
    if (subscriber === undefined) throw new Error('no subscriber');
    return this.deliver(subscriber, envelope, attempt, false);
  }

  deliver(
    subscriber: Subscriber,
    envelope: MessageEnvelope,
    attempt: number,
    redeliver = this.redeliver,
  ): Promise<Settlement> {
    return new Promise<Settlement>((resolve, reject) => {
      let settled = false;
      const record = (settlement: Settlement): Promise<void> => {
        if (this.failSettlement) return Promise.reject(new Error('broker unavailable'));
        if (settled) return Promise.resolve();
        settled = true;
        this.settlements.push({ envelope, attempt, group: subscriber.spec.group, settlement });
        resolve(settlement);
        if (settlement.kind === 'retry' && redeliver && !subscriber.closed) {
          setTimeout(
            () => void this.deliver(subscriber, envelope, attempt + 1, redeliver),
            settlement.delayMs,
          );
        }
        return Promise.resolve();
      };
      const delivery: Delivery = {
        envelope,
        deliveryAttempt: attempt,
        receivedAt: new Date(),
        destination: subscriber.spec.destination,
        group: subscriber.spec.group,
        ack: () => record({ kind: 'ack' }),
        retry: (delayMs) => record({ kind: 'retry', delayMs }),
        deadLetter: (reason) => record({ kind: 'dead-letter', reason }),
        raw: undefined,
      };
      subscriber.onDelivery(delivery).then(() => {
        if (!settled) reject(new Error('onDelivery resolved without settling'));
      }, reject);
    });
  }
}
