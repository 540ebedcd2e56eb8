import { randomUUID } from 'node:crypto';

/**
 * A lock token: 16 bytes in canonical (RFC 4122 string) order, as `$management` requests carry it.
 *
 * On the receive link the token travels as the delivery tag in .NET GUID byte order: the SDK
 * reverses bytes 0-3, 4-5 and 6-7 of the tag before printing it, so the tag must be the reordered
 * form of the canonical bytes.
 */
export interface LockToken {
  /** Canonical bytes (what `string_to_uuid(lockToken)` yields on the client). */
  readonly bytes: Buffer;
  /** Lower-case UUID string, used as the map key. */
  readonly key: string;
}

/** Creates a fresh random lock token. */
export function newLockToken(): LockToken {
  const key = randomUUID();
  return { key, bytes: uuidBytes(key) };
}

/** Converts a UUID string to its canonical 16 bytes. */
export function uuidBytes(uuid: string): Buffer {
  return Buffer.from(uuid.replace(/-/g, ''), 'hex');
}

/** Converts 16 canonical bytes to the lower-case UUID string. */
export function uuidString(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Swaps bytes 0-3, 4-5 and 6-7 (GUID little-endian fields); the operation is its own inverse. */
export function reorderGuidBytes(bytes: Buffer): Buffer {
  const out = Buffer.from(bytes);
  out[0] = bytes[3] ?? 0;
  out[1] = bytes[2] ?? 0;
  out[2] = bytes[1] ?? 0;
  out[3] = bytes[0] ?? 0;
  out[4] = bytes[5] ?? 0;
  out[5] = bytes[4] ?? 0;
  out[6] = bytes[7] ?? 0;
  out[7] = bytes[6] ?? 0;
  return out;
}

/** The delivery tag to send for a lock token. */
export function deliveryTagFor(token: LockToken): Buffer {
  return reorderGuidBytes(token.bytes);
}

/** The lookup key of a lock token received in a management request (a uuid, i.e. 16 bytes). */
export function lockKeyFromRequest(value: unknown): string | undefined {
  if (Buffer.isBuffer(value) && value.length === 16) return uuidString(value);
  if (typeof value === 'string' && /^[0-9a-f-]{36}$/i.test(value)) return value.toLowerCase();
  return undefined;
}
