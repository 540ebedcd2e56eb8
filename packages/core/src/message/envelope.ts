/**
 * String headers carried with a message. Keys are case-sensitive; values are always strings,
 * so every broker can carry them natively (Kafka headers, AMQP headers, SQS message attributes,
 * Service Bus application properties).
 */
export type MessageHeaders = Readonly<Record<string, string>>;

/**
 * The broker-neutral unit that travels: an already-encoded payload plus the metadata every
 * transport must carry unchanged (delivery contract rule 9, docs/concepts/delivery-contract.md). Immutable once published.
 *
 * Maps onto CloudEvents 1.0: `id` → id, `type` → type, `occurredAt` → time,
 * `contentType` → datacontenttype; see {@link toCloudEventAttributes}.
 */
export interface MessageEnvelope {
  /** Unique id set by the publisher; the de-duplication and ledger key. */
  readonly id: string;
  /** The stable event name, e.g. `orders.order-placed.v1`. Empty for foreign messages. */
  readonly type: string;
  /** Encoded payload bytes. */
  readonly payload: Uint8Array;
  /** MIME type of {@link payload}, e.g. `application/json`. */
  readonly contentType: string;
  /** Custom headers (trace context, user headers). Reserved `omnibus-*`/`ce-*` keys are stripped. */
  readonly headers: MessageHeaders;
  /** When the event happened, set by the publisher. */
  readonly occurredAt: Date;
  /** Id of the conversation this message belongs to. */
  readonly correlationId?: string;
  /** Id of the message whose handling caused this one. */
  readonly causationId?: string;
  /** Ordering / sharding key: Kafka key, SQS MessageGroupId, Service Bus sessionId. */
  readonly partitionKey?: string;
  /** Payload version of a versioned event (see `defineEvent`'s `version`); absent: unversioned (read as 1). */
  readonly version?: number;
  /** Reply destination of a request (`EventBus.request`); absent on events. */
  readonly replyTo?: string;
}
