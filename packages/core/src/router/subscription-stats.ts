import type { SettlementOutcome } from '../instrumentation/instrumentation-events.js';

/**
 * Live counters of one subscription, updated by the router on every delivery without
 * allocating (numbers only). Read by `EventBus.health()`. Single event loop only.
 */
export class SubscriptionStats {
  /** Handler attempts of this subscription running now (received, not yet settled). */
  inFlight = 0;
  /** Epoch ms of the last delivery received, or 0. */
  lastDeliveryAt = 0;
  /** Deliveries in a row that ended retried, dead-lettered or with a failed settlement; reset by an ack. */
  consecutiveFailures = 0;
  /** Deliveries received since start. */
  received = 0;
  /** `consuming` once subscribed, `closed` after the router closed it. */
  state: 'starting' | 'consuming' | 'closed' = 'starting';

  /** A delivery arrived at `now`. */
  onReceived(now: number): void {
    this.inFlight++;
    this.received++;
    this.lastDeliveryAt = now;
  }

  /** A delivery ended with `outcome` (`undefined`: the settlement call failed). No clock read. */
  onSettled(outcome: SettlementOutcome | undefined): void {
    this.inFlight--;
    if (outcome === 'acked' || outcome === 'discarded' || outcome === 'filtered')
      this.consecutiveFailures = 0;
    else this.consecutiveFailures++;
  }
}
