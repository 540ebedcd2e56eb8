import { createTraceState, isSpanContextValid, type SpanContext } from '@opentelemetry/api';
import { parseTraceparent, TRACEPARENT_HEADER, TRACESTATE_HEADER, type MessageHeaders } from '@omnibus/core';

/** Longest `traceparent` considered (version 00 is 55 characters; later versions may append fields). */
export const MAX_TRACEPARENT_LENGTH = 256;
/** Longest `tracestate` considered (W3C: vendors may drop state beyond 512 characters). */
export const MAX_TRACESTATE_LENGTH = 512;

/**
 * The remote span context a message carries, or `undefined` when its `traceparent` is absent,
 * malformed, oversized or invalid (the consumer span then starts a new trace). A hostile
 * `tracestate` is dropped, never fatal. Never throws; bounded work whatever the input size.
 */
export function extractSpanContext(headers: MessageHeaders): SpanContext | undefined {
  const traceparent = headers[TRACEPARENT_HEADER];
  if (traceparent === undefined || traceparent.length > MAX_TRACEPARENT_LENGTH) return undefined;
  const parsed = parseTraceparent(traceparent);
  if (parsed === undefined) return undefined;
  const flags = Number.parseInt(parsed.flags, 16);
  const context: SpanContext = {
    traceId: parsed.traceId,
    spanId: parsed.parentId,
    traceFlags: Number.isNaN(flags) ? 0 : flags & 0xff,
    isRemote: true,
  };
  if (!isSpanContextValid(context)) return undefined;
  const tracestate = headers[TRACESTATE_HEADER];
  if (tracestate === undefined || tracestate === '' || tracestate.length > MAX_TRACESTATE_LENGTH)
    return context;
  try {
    return { ...context, traceState: createTraceState(tracestate) };
  } catch {
    return context;
  }
}

/** The `traceparent` (and `tracestate`) headers of a span context. Pure. */
export function injectSpanContext(context: SpanContext): Record<string, string> {
  const flags = (context.traceFlags & 0xff).toString(16).padStart(2, '0');
  const headers: Record<string, string> = {
    [TRACEPARENT_HEADER]: `00-${context.traceId}-${context.spanId}-${flags}`,
  };
  const state = context.traceState?.serialize();
  if (state !== undefined && state !== '') headers[TRACESTATE_HEADER] = state;
  return headers;
}
