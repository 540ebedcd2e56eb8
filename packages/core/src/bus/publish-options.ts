import type { MessageHeaders } from '../message/envelope.js';

/** Options of `EventBus.publish`. Explicit values win over those stamped from the handler context. */
export interface PublishOptions {
  /** Message id (default: a random UUID). Use a deterministic id to let deduplicating transports drop repeats. */
  readonly id?: string;
  /** Ordering/sharding key (Kafka key, SQS MessageGroupId, Service Bus sessionId). */
  readonly partitionKey?: string;
  /** Deliver no sooner than this many ms from now; needs `capabilities.delayedDelivery`. */
  readonly delayMs?: number;
  /** Custom string headers. Reserved names (`ce-*`, `omnibus-*`, `content-type`) are rejected. */
  readonly headers?: MessageHeaders;
  /** Default: inside a handler, the incoming correlationId ?? incoming id. */
  readonly correlationId?: string;
  /** Default: inside a handler, the incoming message id. */
  readonly causationId?: string;
  /** When the event happened (default: now). */
  readonly occurredAt?: Date;
}

/**
 * Options of `EventBus.publishBatch`: options shared by every message (no `id`, which must be
 * unique), or a function giving each payload its own options.
 */
export type BatchPublishOptions<T> =
  Omit<PublishOptions, 'id'> | ((payload: T, index: number) => PublishOptions);

/** Options of `EventBus.request`: publish options plus how long to wait for the reply. */
export interface RequestOptions extends PublishOptions {
  /** Reject with `REQUEST_TIMEOUT` when no reply arrived within this many ms. Default 30000. */
  readonly timeoutMs?: number;
}

/** Default `timeoutMs` of `EventBus.request`: 30 s. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
