import type { MessageHeaders } from '@omnibus/core';

/** Where an instance is in its life: `active` until a step completes or compensates it. */
export type SagaStatus = 'active' | 'completed' | 'compensated';

/** A message a step published, in the form a store can persist (JSON). */
export interface SagaMessage {
  /** Event name (resolved against the saga's declared events when it is published). */
  readonly event: string;
  readonly payload: unknown;
  /** Message id, fixed when the step ran: a republish after a crash reuses it. */
  readonly id: string;
  readonly delayMs?: number;
  readonly partitionKey?: string;
  readonly headers?: MessageHeaders;
  readonly correlationId?: string;
  /** Id of the message whose step published it. */
  readonly causationId?: string;
  /** For delayed messages: not to be delivered before this time (ISO 8601); a republish keeps it. */
  readonly notBefore?: string;
}

/** The messages of one committed step that are not yet confirmed published. */
export interface SagaPendingStep {
  /** The version the step committed. */
  readonly version: number;
  readonly messages: readonly SagaMessage[];
}

/** A message id an instance applied, and the version its step committed. */
export interface SagaHandledMessage {
  readonly messageId: string;
  readonly version: number;
}

/** A scheduled timeout that is still armed. */
export interface SagaTimeout {
  /** Unique per scheduling; the timeout message carries it, a stale token is ignored. */
  readonly token: string;
  /** Name given to `schedule` (one armed timeout per name). */
  readonly name: string;
  /** When it is due (ISO 8601). */
  readonly dueAt: string;
}

/**
 * One saga instance as stored. Plain JSON, so any store can persist it. `version` starts at 1
 * on insert and grows by one per committed step: the optimistic-concurrency token.
 */
export interface SagaRecord {
  /** Saga name. */
  readonly saga: string;
  /** Correlation id (unique per saga). */
  readonly id: string;
  readonly version: number;
  readonly status: SagaStatus;
  /** The saga's state (JSON-serialisable). */
  readonly state: unknown;
  /** Armed timeouts. */
  readonly timeouts: readonly SagaTimeout[];
  /** Compensating messages registered by steps, published (last first) by `compensate`. */
  readonly compensations: readonly SagaMessage[];
  /** The last messages applied (a redelivery of one is not applied again). */
  readonly handled: readonly SagaHandledMessage[];
  /**
   * Steps whose messages are not yet confirmed published (always empty when the store writes
   * them to an outbox). Maintained by the store: appended by `save`, removed by `markDispatched`.
   */
  readonly pending: readonly SagaPendingStep[];
  /** True once a timeout fired on this instance. */
  readonly timedOut: boolean;
  /** Why it ended (`complete(reason)`, `compensate(reason)`). */
  readonly reason?: string;
  /** Event name (or `timeout:<name>`) of the last applied step. */
  readonly lastStep: string;
  /** ISO 8601. */
  readonly createdAt: string;
  /** ISO 8601. */
  readonly updatedAt: string;
}
