import { randomTraceparent } from './random-ids.js';

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
  return parsed === undefined ? randomTraceparent() : randomTraceparent(parsed.traceId, parsed.flags);
}
