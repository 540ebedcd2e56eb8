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
  const parsed = parseTraceparent(parent);
  const spanId = randomHex(8);
  if (parsed === undefined)
    return formatTraceparent({ traceId: randomHex(16), parentId: spanId, flags: '01' });
  return formatTraceparent({ traceId: parsed.traceId, parentId: spanId, flags: parsed.flags });
}

/** Random bytes are drawn from a pooled buffer: one `randomBytes` call per 4 KiB instead of two per message. */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

function randomHex(bytes: number): string {
  for (;;) {
    if (poolOffset + bytes > pool.length) {
      pool = randomBytes(POOL_BYTES);
      poolOffset = 0;
    }
    const hex = pool.toString('hex', poolOffset, poolOffset + bytes);
    poolOffset += bytes;
    if (!/^0+$/.test(hex)) return hex;
  }
}
