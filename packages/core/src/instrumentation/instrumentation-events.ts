import type { MessageEnvelope } from '../message/envelope.js';
import type { HealthChangedEvent } from '../health/bus-health.js';
import type { TransportStatus } from '../transport/transport.js';

/**
 * How a delivery ended. `discarded`: dropped without dead-lettering (dead-letter disabled, or no
 * handler for the type in the group). `filtered`: acked without running the handler because its
 * filter did not match (reason code `FILTERED`).
 */
export type SettlementOutcome = 'acked' | 'retried' | 'dead-lettered' | 'discarded' | 'filtered';

/** Why a delivery was retried, dead-lettered or discarded. */
export interface SettlementReason {
  /** Machine-readable code, e.g. `HANDLER_FAILED`, `DECODE_FAILED`, `RETRY_LATER`. */
  readonly code: string;
  /** Human-readable message (the error's message). */
  readonly message: string;
}

/** `message.published`: the broker durably accepted a message. */
export interface MessagePublishedEvent {
  readonly envelope: MessageEnvelope;
  readonly destination: string;
  readonly delayMs?: number;
}

/** `message.received`: a delivery reached the router, before decoding. */
export interface MessageReceivedEvent {
  readonly envelope: MessageEnvelope;
  readonly attempt: number;
  readonly destination: string;
  readonly group: string;
}

/** `message.settled`: the router settled a delivery (the settlement call resolved). */
export interface MessageSettledEvent {
  readonly outcome: SettlementOutcome;
  readonly envelope: MessageEnvelope;
  readonly attempt: number;
  readonly destination: string;
  readonly group: string;
  /** `Class.method` of the handler, when one was selected. */
  readonly handler?: string;
  /** Redelivery delay, for `retried`. */
  readonly delayMs?: number;
  /** Why, for every outcome except `acked`. */
  readonly reason?: SettlementReason;
  /** From receipt to settlement, in ms. */
  readonly durationMs: number;
}

/** `handler.failed`: a handler (or its middleware) threw; settlement follows. */
export interface HandlerFailedEvent {
  readonly envelope: MessageEnvelope;
  readonly attempt: number;
  readonly handler: string;
  readonly error: unknown;
  readonly durationMs: number;
}

/** `settlement.failed`: an ack/retry/deadLetter call itself failed; the broker will redeliver. */
export interface SettlementFailedEvent {
  readonly envelope: MessageEnvelope;
  readonly attempt: number;
  readonly outcome: SettlementOutcome;
  readonly error: unknown;
}

/** `transport.status`: the transport's status changed (e.g. `reconnecting`). */
export interface TransportStatusEvent {
  readonly transport: string;
  readonly status: TransportStatus;
  readonly error?: Error;
}

/** Every instrumentation event, by name. */
export interface InstrumentationEvents {
  'message.published': MessagePublishedEvent;
  'message.received': MessageReceivedEvent;
  'message.settled': MessageSettledEvent;
  'handler.failed': HandlerFailedEvent;
  'settlement.failed': SettlementFailedEvent;
  'transport.status': TransportStatusEvent;
  'health.changed': HealthChangedEvent;
}

/** Name of an instrumentation event. */
export type InstrumentationEventName = keyof InstrumentationEvents;

/** A listener for one instrumentation event. May be async; its result is not awaited. */
export type InstrumentationListener<K extends InstrumentationEventName> = (
  event: InstrumentationEvents[K],
) => void | Promise<void>;
