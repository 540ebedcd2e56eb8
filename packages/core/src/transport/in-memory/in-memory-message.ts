import type { MessageEnvelope } from '../../message/envelope.js';
import { envelopeToWireHeaders, type DeadLetterInfo } from '../../message/wire-headers.js';
import type { InMemoryGroup } from './in-memory-group.js';

/**
 * One message as stored in one group's queue. Headers and payload are shared, immutable copies
 * made at publish; `availableAt` and `deliveryCount` are per group.
 */
export interface StoredMessage {
  /** Broker-wide publish order; queues are kept sorted by it. */
  readonly seq: number;
  /** Broker-assigned id (the envelope id of foreign messages). */
  readonly brokerMessageId: string;
  /** Wire headers exactly as published (`envelopeToWireHeaders` or foreign raw headers). */
  readonly headers: Readonly<Record<string, string>>;
  readonly payload: Uint8Array;
  /**
   * The envelope deliveries receive, when the message was published by an Omnibus transport:
   * a frozen snapshot equal to what decoding {@link headers} would give, with {@link payload}
   * as its payload. Absent for foreign messages (deliveries decode the headers).
   */
  readonly envelope: MessageEnvelope | undefined;
  readonly partitionKey: string | undefined;
  readonly enqueuedAt: Date;
  /** `performance.now()` before which the message must not be delivered. */
  availableAt: number;
  /** Attempts handed to a handler so far (retried, or released after it started). */
  deliveryCount: number;
}

/**
 * The broker's {@link StoredMessage}: the wire headers of an Omnibus envelope and the broker
 * message id are only built when something reads them (dead-lettering, `raw`, a foreign
 * reader), never on the publish → deliver → ack path.
 */
export class StoredEntry implements StoredMessage {
  readonly seq: number;
  readonly payload: Uint8Array;
  readonly envelope: MessageEnvelope | undefined;
  readonly partitionKey: string | undefined;
  readonly enqueuedAt: Date;
  availableAt: number;
  deliveryCount = 0;
  #headers: Readonly<Record<string, string>> | undefined;

  /**
   * @param envelope - The Omnibus envelope snapshot, or `undefined` for a foreign message.
   * @param headers - A foreign message's wire headers (`undefined` when `envelope` is given: built on first read).
   */
  constructor(
    seq: number,
    envelope: MessageEnvelope | undefined,
    headers: Readonly<Record<string, string>> | undefined,
    payload: Uint8Array,
    partitionKey: string | undefined,
    enqueuedAt: Date,
    availableAt: number,
  ) {
    this.seq = seq;
    this.payload = payload;
    this.envelope = envelope;
    this.#headers = headers;
    this.partitionKey = partitionKey;
    this.enqueuedAt = enqueuedAt;
    this.availableAt = availableAt;
  }

  get brokerMessageId(): string {
    return `in-memory-${String(this.seq)}`;
  }

  get headers(): Readonly<Record<string, string>> {
    this.#headers ??= Object.freeze(envelopeToWireHeaders(this.envelope as MessageEnvelope));
    return this.#headers;
  }
}

/** Lifecycle of one delivery of a message to one consumer. */
export type LeaseState = 'in-flight' | 'settled' | 'released';

/**
 * A message handed to a consumer and not yet settled. Settlement and release go through the
 * group; a lease that is no longer `in-flight` can never be settled (stale).
 */
export interface Lease {
  readonly message: StoredMessage;
  /** The group queue that handed it out (settlement and release go through it). */
  readonly queue: InMemoryGroup;
  readonly consumer: GroupConsumer;
  /** 1-based attempt number of this delivery. */
  readonly deliveryAttempt: number;
  /** True once the handler was invoked; a started lease released unsettled counts as an attempt. */
  started: boolean;
  state: LeaseState;
}

/** A broker-side consumer of one group: receives leases while it has intake and credit. */
export interface GroupConsumer {
  /** Most unsettled leases it may hold. */
  readonly prefetch: number;
  /** Leases currently held. */
  outstanding: number;
  /** False once the consumer stopped taking new messages (closing). */
  intake: boolean;
  /** Hands over newly leased messages (called outside the group's pump loop). */
  readonly deliver: (lease: Lease) => void;
  /**
   * Makes the lease object (optional; default a plain {@link Lease}). A subscription passes one
   * whose lease is also the delivery, so a delivered message is one object, not two. Must not throw.
   */
  readonly lease?: (message: StoredMessage, queue: InMemoryGroup, consumer: GroupConsumer, deliveryAttempt: number) => Lease;
}

/** A dead-lettered message read out of band with {@link InMemoryBroker.readDeadLetters}. */
export interface InMemoryDeadLetter {
  /** The original envelope (payload and headers as published). */
  readonly envelope: MessageEnvelope;
  /** Reason, attempts, original destination and group. */
  readonly info: DeadLetterInfo;
  /** The dead-lettered copy's wire headers (original headers plus `omnibus-dead-letter-*`). */
  readonly headers: Readonly<Record<string, string>>;
}
