import type { MessageEnvelope, MessageHeaders } from './envelope.js';
import { CLOUD_EVENTS_SOURCE } from './wire-headers.js';

/**
 * CloudEvents 1.0 context attributes of an envelope: the required ones (`specversion`, `id`,
 * `source`, `type`), the optional `time` and `datacontenttype`, and the extensions
 * `correlationid`, `causationid` and `partitionkey` (the CloudEvents Partitioning extension).
 */
export interface CloudEventAttributes {
  readonly specversion: '1.0';
  readonly id: string;
  readonly source: string;
  readonly type: string;
  readonly time: string;
  readonly datacontenttype: string;
  readonly correlationid?: string;
  readonly causationid?: string;
  readonly partitionkey?: string;
}

/** Map an envelope to CloudEvents attributes (`source` is {@link CLOUD_EVENTS_SOURCE} unless given). Pure. */
export function toCloudEventAttributes(
  envelope: MessageEnvelope,
  source: string = CLOUD_EVENTS_SOURCE,
): CloudEventAttributes {
  const attributes: { -readonly [K in keyof CloudEventAttributes]: CloudEventAttributes[K] } = {
    specversion: '1.0',
    id: envelope.id,
    source,
    type: envelope.type,
    time: envelope.occurredAt.toISOString(),
    datacontenttype: envelope.contentType,
  };
  if (envelope.correlationId !== undefined) attributes.correlationid = envelope.correlationId;
  if (envelope.causationId !== undefined) attributes.causationid = envelope.causationId;
  if (envelope.partitionKey !== undefined) attributes.partitionkey = envelope.partitionKey;
  return attributes;
}

/**
 * Rebuild an envelope from CloudEvents attributes plus the payload bytes and custom headers.
 * Missing `time` becomes the Unix epoch, missing `datacontenttype` `application/octet-stream`.
 * Pure.
 */
export function fromCloudEventAttributes(
  attributes: Omit<CloudEventAttributes, 'time' | 'datacontenttype' | 'specversion'> & {
    readonly time?: string;
    readonly datacontenttype?: string;
    readonly specversion?: string;
  },
  payload: Uint8Array,
  headers: MessageHeaders = {},
): MessageEnvelope {
  const time = attributes.time === undefined ? Number.NaN : Date.parse(attributes.time);
  const envelope: { -readonly [K in keyof MessageEnvelope]: MessageEnvelope[K] } = {
    id: attributes.id,
    type: attributes.type,
    payload,
    contentType: attributes.datacontenttype ?? 'application/octet-stream',
    headers: { ...headers },
    occurredAt: new Date(Number.isNaN(time) ? 0 : time),
  };
  if (attributes.correlationid !== undefined) envelope.correlationId = attributes.correlationid;
  if (attributes.causationid !== undefined) envelope.causationId = attributes.causationid;
  if (attributes.partitionkey !== undefined) envelope.partitionKey = attributes.partitionkey;
  return envelope;
}
