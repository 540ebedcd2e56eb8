import type {
  Delivery,
  DeliveryHandler,
  OutgoingMessage,
  Subscription,
  SubscriptionSpec,
  TopologySpec,
  Transport,
  TransportCapabilities,
  TransportStatus,
  TransportStatusListener,
} from '@omnibus/core';

/** Behaviour a mutant replaces; each receives the wrapped (correct) transport. */
export interface TransportOverrides {
  provision?(inner: Transport, topology: TopologySpec): Promise<void>;
  publish?(inner: Transport, destination: string, messages: readonly OutgoingMessage[]): Promise<void>;
  subscribe?(inner: Transport, spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription>;
  close?(inner: Transport, drainTimeoutMs?: number): Promise<void>;
}

/**
 * A transport that forwards to `inner` except where `overrides` says otherwise: the way the
 * self-test builds deliberately broken adapters out of the correct in-memory transport.
 */
export class WrappedTransport implements Transport {
  readonly inner: Transport;
  readonly #overrides: TransportOverrides;

  constructor(inner: Transport, overrides: TransportOverrides) {
    this.inner = inner;
    this.#overrides = overrides;
  }

  get name(): string {
    return this.inner.name;
  }

  get capabilities(): TransportCapabilities {
    return this.inner.capabilities;
  }

  get status(): TransportStatus {
    return this.inner.status;
  }

  onStatusChange(listener: TransportStatusListener): () => void {
    return this.inner.onStatusChange(listener);
  }

  connect(): Promise<void> {
    return this.inner.connect();
  }

  provision(topology: TopologySpec): Promise<void> {
    return this.#overrides.provision?.(this.inner, topology) ?? this.inner.provision(topology);
  }

  publish(destination: string, messages: readonly OutgoingMessage[]): Promise<void> {
    return (
      this.#overrides.publish?.(this.inner, destination, messages) ??
      this.inner.publish(destination, messages)
    );
  }

  subscribe(spec: SubscriptionSpec, onDelivery: DeliveryHandler): Promise<Subscription> {
    return (
      this.#overrides.subscribe?.(this.inner, spec, onDelivery) ?? this.inner.subscribe(spec, onDelivery)
    );
  }

  close(drainTimeoutMs?: number): Promise<void> {
    return this.#overrides.close?.(this.inner, drainTimeoutMs) ?? this.inner.close(drainTimeoutMs);
  }

  raw(): unknown {
    return this.inner.raw();
  }
}

/** A copy of `delivery` with some members replaced (getters of the original are read once). */
export function patchDelivery(delivery: Delivery, patch: Partial<Delivery>): Delivery {
  return {
    envelope: delivery.envelope,
    deliveryAttempt: delivery.deliveryAttempt,
    receivedAt: delivery.receivedAt,
    destination: delivery.destination,
    group: delivery.group,
    raw: delivery.raw,
    ack: () => delivery.ack(),
    retry: (delayMs: number) => delivery.retry(delayMs),
    deadLetter: (reason) => delivery.deadLetter(reason),
    ...patch,
  };
}
