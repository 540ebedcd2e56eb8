import { randomUuid } from '../instrumentation/random-ids.js';
import type { MessageEnvelope, MessageHeaders } from './envelope.js';

/** Input of {@link createEnvelope}. */
export interface CreateEnvelopeInput {
  readonly type: string;
  readonly payload: Uint8Array;
  readonly contentType: string;
  readonly headers?: MessageHeaders;
  /** Default: a random UUID (v4). */
  readonly id?: string;
  /** Default: now. */
  readonly occurredAt?: Date;
  readonly correlationId?: string;
  readonly causationId?: string;
  readonly partitionKey?: string;
  /** Payload version of a versioned event. */
  readonly version?: number;
  /** Reply destination of a request. */
  readonly replyTo?: string;
}

/**
 * Build an immutable (frozen) envelope, generating `id` as a random UUID (v4, like `crypto.randomUUID()`) and
 * `occurredAt` as now when absent. Optional attributes that are `undefined` are omitted.
 */
export function createEnvelope(input: CreateEnvelopeInput): MessageEnvelope {
  return buildEnvelope(input, Object.freeze({ ...(input.headers ?? {}) }));
}

function buildEnvelope(input: CreateEnvelopeInput, headers: MessageEnvelope['headers']): MessageEnvelope {
  const envelope: { -readonly [K in keyof MessageEnvelope]: MessageEnvelope[K] } = {
    id: input.id ?? randomUuid(),
    type: input.type,
    payload: input.payload,
    contentType: input.contentType,
    headers,
    occurredAt: input.occurredAt ?? new Date(),
  };
  if (input.correlationId !== undefined) envelope.correlationId = input.correlationId;
  if (input.causationId !== undefined) envelope.causationId = input.causationId;
  if (input.partitionKey !== undefined) envelope.partitionKey = input.partitionKey;
  if (input.version !== undefined) envelope.version = input.version;
  if (input.replyTo !== undefined) envelope.replyTo = input.replyTo;
  return Object.freeze(envelope);
}
