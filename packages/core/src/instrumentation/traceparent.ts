import { randomBytes } from 'node:crypto';

/** W3C Trace Context header names. */
export const TRACEPARENT_HEADER = 'traceparent';
/** Vendor trace state, propagated unchanged. */
export const TRACESTATE_HEADER = 'tracestate';

const PATTERN = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A parsed W3C `traceparent` (version 00). */
export interface TraceParent {
  readonly traceId: string;
  readonly parentId: string;
  readonly flags: string;
}

/** Longest `traceparent` parsed; longer headers are malformed (bounded work on hostile input). */
const MAX_TRACEPARENT_LENGTH = 256;

/** Parse a `traceparent` header; `undefined` when absent, oversized or malformed (all-zero ids are invalid). Pure. */
export function parseTraceparent(header: string | undefined): TraceParent | undefined {
  if (header === undefined || header.length > MAX_TRACEPARENT_LENGTH) return undefined;
  const match = PATTERN.exec(header.trim().toLowerCase());
  if (match === null) return undefined;
  const [, version, traceId, parentId, flags] = match as unknown as [string, string, string, string, string];
  if (version === 'ff' || /^0+$/.test(traceId) || /^0+$/.test(parentId)) return undefined;
  return { traceId, parentId, flags };
}

/** Format a {@link TraceParent} as a version-00 header. Pure. */
export function formatTraceparent(trace: TraceParent): string {
  return `00-${trace.traceId}-${trace.parentId}-${trace.flags}`;
}

/**
 * A `traceparent` for an outgoing message: same trace id and flags as `parent` with a new
 * span id, or a brand-new sampled (`01`) trace when `parent` is absent or malformed.
 */
export function childTraceparent(parent: string | undefined): string {
  const parsed = parent === undefined ? undefined : parseTraceparent(parent);
  if (parsed === undefined) {
    // A new trace: one draw of 24 random bytes for both ids (a zero id is redrawn).
    const start = randomOffset(24, 16);
    return `00-${pool.toString('hex', start, start + 16)}-${pool.toString('hex', start + 16, start + 24)}-01`;
  }
  return formatTraceparent({ traceId: parsed.traceId, parentId: randomHex(8), flags: parsed.flags });
}

/** Random bytes are drawn from a pooled buffer: one `randomBytes` call per 4 KiB instead of two per message. */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** `bytes` random bytes as hex; when `split` is given, neither the first `split` bytes nor the rest are all zero. */
function randomHex(bytes: number, split = bytes): string {
  const start = randomOffset(bytes, split);
  return pool.toString('hex', start, start + bytes);
}

/** Reserve `bytes` random bytes of the pool and return their offset (same zero rule as {@link randomHex}). */
function randomOffset(bytes: number, split: number): number {
  for (;;) {
    if (poolOffset + bytes > pool.length) {
      pool = randomBytes(POOL_BYTES);
      poolOffset = 0;
    }
    const start = poolOffset;
    poolOffset += bytes;
    if (allZero(start, start + split) || allZero(start + split, start + bytes)) continue;
    return start;
  }
}

function allZero(from: number, to: number): boolean {
  if (from === to) return false;
  for (let i = from; i < to; i += 1) if (pool[i] !== 0) return false;
  return true;
}
