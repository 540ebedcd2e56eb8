import type { BusStatus } from '../bus/bus-status.js';
import type { SubscriptionStats } from '../router/subscription-stats.js';
import type { SubscriptionSpec, TransportStatus } from '../transport/transport.js';

/** Health of one subscription (one destination and group). */
export interface SubscriptionHealth {
  readonly destination: string;
  readonly group: string;
  /** `consuming`; `paused` while the transport is not connected; `starting` before subscribe resolved; `closed` after stop. */
  readonly state: 'starting' | 'consuming' | 'paused' | 'closed';
  /** The transport is connected (`ready`). */
  readonly connected: boolean;
  /** When the last delivery arrived (absent: none yet). */
  readonly lastDeliveryAt?: Date;
  /** Handler attempts running now. */
  readonly inFlight: number;
  /** The subscription's concurrency limit. */
  readonly concurrency: number;
  /** Deliveries in a row that ended retried, dead-lettered or with a failed settlement (an ack resets it). */
  readonly consecutiveFailures: number;
  /** Deliveries received since start. */
  readonly received: number;
  /** Handlers are running and no delivery arrived for longer than the stall limit (handlers that ignore their abort). */
  readonly stalled: boolean;
}

/** Snapshot returned by `EventBus.health()`. */
export interface BusHealth {
  /** Serve traffic: the bus is started, the transport connected and every subscription consuming. */
  readonly ready: boolean;
  /** Keep the process: false only when something is stuck (a stalled subscription, the transport reconnecting for too long, a start that failed). */
  readonly live: boolean;
  /** Why `ready` or `live` is false (empty when both are true). */
  readonly reasons: readonly string[];
  readonly status: BusStatus;
  readonly transport:
    { readonly name: string; readonly status: TransportStatus; readonly since: Date } | undefined;
  readonly subscriptions: readonly SubscriptionHealth[];
  readonly checkedAt: Date;
}

/** Thresholds of the health verdict (`EventBusConfig.health`). */
export interface HealthOptions {
  /**
   * A subscription is stalled (→ not live) when it has handlers in flight and no delivery
   * arrived for this long. Default: twice its handler timeout plus 10 s (handlers are aborted at
   * their timeout, so one still running after that ignores its abort, and with every slot taken
   * nothing new arrives).
   */
  readonly stallAfterMs?: number;
  /** Not live when the transport has not been `ready` for this long after having been ready. Default 5 min. */
  readonly reconnectingTooLongMs?: number;
  /** Not ready when a subscription has this many failed deliveries in a row. Default: never. */
  readonly maxConsecutiveFailures?: number;
}

/** `health.changed`: the readiness or liveness verdict changed. */
export interface HealthChangedEvent {
  readonly ready: boolean;
  readonly live: boolean;
  readonly reasons: readonly string[];
}

/** Inputs of {@link computeHealth}. */
export interface HealthInputs {
  readonly status: BusStatus;
  /** True when a start failed (the bus is stopped without having been asked to). */
  readonly startFailed: boolean;
  readonly transport:
    { readonly name: string; readonly status: TransportStatus; readonly since: number } | undefined;
  readonly subscriptions: readonly { readonly spec: SubscriptionSpec; readonly stats: SubscriptionStats }[];
  readonly options: HealthOptions;
  readonly now: number;
}

const DEFAULT_RECONNECTING_TOO_LONG_MS = 5 * 60_000;

/** The health verdict from live counters. Pure. */
export function computeHealth(input: HealthInputs): BusHealth {
  const { status, transport, options, now } = input;
  const reasons: string[] = [];
  let ready = status === 'started';
  let live = !input.startFailed;
  if (status !== 'started') reasons.push(`bus is ${status}`);
  if (input.startFailed) reasons.push('start failed');
  const connected = transport?.status === 'ready';
  if (transport !== undefined && !connected) {
    ready = false;
    reasons.push(`transport ${transport.name} is ${transport.status}`);
    const limit = options.reconnectingTooLongMs ?? DEFAULT_RECONNECTING_TOO_LONG_MS;
    if (transport.status === 'reconnecting' && now - transport.since > limit) {
      live = false;
      reasons.push(`transport ${transport.name} reconnecting for more than ${String(limit)} ms`);
    }
  }
  const subscriptions = input.subscriptions.map(({ spec, stats }): SubscriptionHealth => {
    const name = `${spec.destination}/${spec.group}`;
    const state = stats.state === 'consuming' && !connected ? 'paused' : stats.state;
    if (state !== 'consuming' && status === 'started') {
      ready = false;
      reasons.push(`subscription ${name} is ${state}`);
    }
    const stallAfter = options.stallAfterMs ?? spec.handlerTimeoutMs * 2 + 10_000;
    const stalled = stats.inFlight > 0 && now - stats.lastDeliveryAt > stallAfter;
    if (stalled) {
      live = false;
      reasons.push(
        `subscription ${name} has ${String(stats.inFlight)} handler(s) in flight and no delivery for more than ${String(stallAfter)} ms`,
      );
    }
    const maxFailures = options.maxConsecutiveFailures;
    if (maxFailures !== undefined && stats.consecutiveFailures >= maxFailures) {
      ready = false;
      reasons.push(`subscription ${name} failed ${String(stats.consecutiveFailures)} deliveries in a row`);
    }
    return {
      destination: spec.destination,
      group: spec.group,
      state,
      connected,
      ...(stats.lastDeliveryAt === 0 ? {} : { lastDeliveryAt: new Date(stats.lastDeliveryAt) }),
      inFlight: stats.inFlight,
      concurrency: spec.concurrency,
      consecutiveFailures: stats.consecutiveFailures,
      received: stats.received,
      stalled,
    };
  });
  return {
    ready,
    live,
    reasons,
    status,
    transport:
      transport === undefined
        ? undefined
        : { name: transport.name, status: transport.status, since: new Date(transport.since) },
    subscriptions,
    checkedAt: new Date(now),
  };
}
