import type { MessageEnvelope } from '../message/envelope.js';

/**
 * Why a message is dead-lettered. Adapters attach it to the dead-lettered copy (as headers,
 * properties or the broker's native reason fields) next to the original payload and headers.
 */
export interface DeadLetterReason {
  /** Machine-readable cause, e.g. `HANDLER_FAILED`, `DECODE_FAILED`, `UNKNOWN_EVENT_TYPE`. */
  readonly code: string;
  /** Human-readable description (the last error's message). */
  readonly message: string;
  /** Attempts made, including the one that failed last. */
  readonly attempts: number;
}

/**
 * A message as received by a subscription, handed by the adapter to the router. The router
 * settles it exactly once with one of {@link ack}, {@link retry} or {@link deadLetter}; the
 * adapter implements each natively. Settling twice is a programming error: adapters ignore the
 * second call. A message never settled (process killed, subscription closed) is redelivered by
 * the broker.
 */
export interface Delivery {
  /** The envelope as decoded from the wire. Foreign messages get `type: ''`. */
  readonly envelope: MessageEnvelope;
  /** 1-based attempt number. Survives consumer restarts (broker count or carried header). */
  readonly deliveryAttempt: number;
  /** When this attempt was received. */
  readonly receivedAt: Date;
  /** The destination it was received from. */
  readonly destination: string;
  /** The consumer group it was received for. */
  readonly group: string;
  /** Remove the message for this group. Resolves when the broker accepted the ack/commit. */
  ack(): Promise<void>;
  /**
   * Redeliver no sooner than `delayMs` from now, with `deliveryAttempt + 1`. May duplicate,
   * never lose: the adapter makes the redelivery durable before removing the current copy.
   */
  retry(delayMs: number): Promise<void>;
  /**
   * Move the message to the group's dead-letter destination with the original payload and
   * headers plus the reason, attempt count and original destination. Durable before removal.
   */
  deadLetter(reason: DeadLetterReason): Promise<void>;
  /** The broker-native message, for broker-specific needs (escape hatch). */
  readonly raw: unknown;
}

/** Called by the adapter for every delivery; resolves once the router has settled it. */
export type DeliveryHandler = (delivery: Delivery) => Promise<void>;
