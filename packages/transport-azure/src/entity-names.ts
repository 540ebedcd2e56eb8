import { createHash } from 'node:crypto';

/** Service Bus limit on topic and queue names. */
export const MAX_TOPIC_NAME_LENGTH = 260;
/** Service Bus limit on subscription names. */
export const MAX_SUBSCRIPTION_NAME_LENGTH = 50;
/** Service Bus limit on session ids (and message ids). */
export const MAX_SESSION_ID_LENGTH = 128;

/**
 * The topic for a destination: `prefix + destination`, with characters Service Bus rejects
 * replaced by `-`, and names over 260 characters shortened with a hash suffix so that two
 * different destinations never share a topic. Pure and deterministic.
 */
export function topicName(prefix: string, destination: string): string {
  return fitName(`${prefix}${destination}`, /[^A-Za-z0-9._\-/]/g, MAX_TOPIC_NAME_LENGTH);
}

/**
 * The subscription for a consumer group (one subscription per group: members compete on it,
 * groups fan out). Same sanitising rules as {@link topicName}, within 50 characters.
 */
export function subscriptionName(group: string): string {
  return fitName(group, /[^A-Za-z0-9._-]/g, MAX_SUBSCRIPTION_NAME_LENGTH);
}

/**
 * The session id carrying a partition key (ordering scope). Keys over 128 characters are
 * replaced by a hash, so ordering per key is kept whatever the key length.
 */
export function sessionIdFor(partitionKey: string): string {
  if (partitionKey.length <= MAX_SESSION_ID_LENGTH && partitionKey !== '') return partitionKey;
  return `sha256-${hash(partitionKey, 64)}`;
}

function fitName(raw: string, invalid: RegExp, maxLength: number): string {
  let name = raw.replace(invalid, '-');
  // Names must start and end with a letter or digit.
  name = name.replace(/^[^A-Za-z0-9]+/, '').replace(/[^A-Za-z0-9]+$/, '');
  if (name === raw && name.length <= maxLength) return name;
  const suffix = hash(raw, 8);
  const head = name.slice(0, maxLength - suffix.length - 1).replace(/[^A-Za-z0-9]+$/, '');
  return head === '' ? suffix : `${head}-${suffix}`;
}

function hash(value: string, length: number): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}
