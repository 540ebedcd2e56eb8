/** Settings of a subscription the transport needs (one per consumer group). */
export interface SubscriptionSettings {
  /** Session-enabled: messages with one session id (partition key) are received in order by one receiver at a time. */
  readonly requiresSession: boolean;
  /** Peek-lock (or session-lock) duration, in ms. */
  readonly lockDurationMs: number;
  /** Deliveries of one copy before the broker dead-letters it (`MaxDeliveryCountExceeded`). */
  readonly maxDeliveryCount: number;
  /**
   * SQL filter for the subscription's default rule, or `undefined` for "all messages". The
   * transport uses it to keep retry copies addressed to another group out of this subscription,
   * and, where the provisioner {@link EntityProvisioner.managesRules}, for the group's header
   * filters (filter push-down).
   */
  readonly sqlFilter?: string;
}

/**
 * Port: makes sure the Service Bus entities the transport uses exist. Implementations:
 * {@link AdminClientProvisioner} (production, ServiceBusAdministrationClient over HTTPS; create or
 * verify), {@link EmulatorProvisioner} (the test emulator's loopback HTTP admin API) and
 * {@link NoopProvisioner} (entities managed elsewhere, e.g. Bicep/Terraform).
 *
 * Every method is idempotent and safe to call concurrently. Failures reject with a
 * `PROVISIONING_FAILED` {@link OmnibusError}.
 */
export interface EntityProvisioner {
  /**
   * True when {@link ensureSubscription} also brings an existing subscription's `$Default` rule to
   * `settings.sqlFilter` (so a group's header filters can be pushed down and later changed).
   */
  readonly managesRules?: boolean;
  /** Ensure a topic exists. */
  ensureTopic(topic: string): Promise<void>;
  /** Ensure a subscription exists on `topic` with compatible settings (session mode cannot change). */
  ensureSubscription(topic: string, subscription: string, settings: SubscriptionSettings): Promise<void>;
  /**
   * Optional: the subscription's active message count (locked messages included; scheduled,
   * deferred and dead-lettered ones not), from the management plane. Absent when the provisioner
   * has no management access (`none`). Rejects when the subscription does not exist.
   */
  activeMessageCount?(topic: string, subscription: string): Promise<number>;
  /**
   * Whether `topic` has at least one subscription (ADR 0005: a publish to a topic without one
   * would be accepted and dropped). Absent when the provisioner cannot ask (`provisioning: 'none'`).
   * Rejects with a typed error when the management endpoint cannot be asked.
   */
  hasSubscriptions?(topic: string): Promise<boolean>;
  /**
   * Optional: delete a subscription with its messages; a missing one is not an error. Absent
   * when the provisioner does not manage entities (`provisioning: 'none'`).
   */
  deleteSubscription?(topic: string, subscription: string): Promise<void>;
  /** Optional: delete a topic with its subscriptions; a missing one is not an error. */
  deleteTopic?(topic: string): Promise<void>;
  /**
   * Optional: whether the topic, and the subscription when given, exist (creating nothing). Absent
   * when the provisioner has no management access (`provisioning: 'none'`). Rejects with a typed
   * error when the management endpoint cannot be asked.
   */
  exists?(topic: string, subscription?: string): Promise<boolean>;
  /** Release HTTP resources. Idempotent. */
  close(): Promise<void>;
}

/** Provisioner for `provisioning: 'none'`: assumes every entity exists. */
export class NoopProvisioner implements EntityProvisioner {
  /** Does nothing. */
  ensureTopic(): Promise<void> {
    return Promise.resolve();
  }

  /** Does nothing. */
  ensureSubscription(): Promise<void> {
    return Promise.resolve();
  }

  /** Does nothing. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}

/** ISO-8601 duration (`PT30S`, `PT1M0.5S`) for a number of ms, as the admin API expects. */
export function toIsoDuration(ms: number): string {
  const totalSeconds = ms / 1000;
  const minutes = Math.floor(totalSeconds / 60);
  const seconds = Math.round((totalSeconds - minutes * 60) * 1000) / 1000;
  if (minutes === 0) return `PT${String(seconds)}S`;
  return seconds === 0 ? `PT${String(minutes)}M` : `PT${String(minutes)}M${String(seconds)}S`;
}

/** Milliseconds of an ISO-8601 duration of the form the admin API returns (`PT1M30S`, `P1D`…). */
export function fromIsoDuration(iso: string): number | undefined {
  const match = /^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(iso);
  if (match === null) return undefined;
  const [, d, h, m, s] = match;
  return (
    ((Number(d ?? 0) * 24 + Number(h ?? 0)) * 60 + Number(m ?? 0)) * 60_000 +
    Math.round(Number(s ?? 0) * 1000)
  );
}
