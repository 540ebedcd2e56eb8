/**
 * What every benchmark message carries, for the framework and the raw clients alike. Both sides
 * JSON-encode it, so serialization costs the same on each path.
 */
export interface BenchPayload {
  /** Sequence number within one run (0-based). */
  readonly seq: number;
  /** Intended send time, `performance.now()` ms of this process (coordinated-omission-safe latency). */
  readonly t: number;
  /** Filler that brings the encoded payload to the configured size. */
  readonly pad: string;
}

const pads = new Map<number, string>();

/** Filler length so that `JSON.stringify(payload)` is about `sizeBytes` long. */
function padFor(sizeBytes: number): string {
  let pad = pads.get(sizeBytes);
  if (pad === undefined) {
    // {"seq":123456,"t":12345.678901,"pad":""} is about 40 bytes.
    pad = 'x'.repeat(Math.max(0, sizeBytes - 40));
    pads.set(sizeBytes, pad);
  }
  return pad;
}

/** A payload of about `sizeBytes` encoded bytes. Pure (the filler string is shared). */
export function makePayload(seq: number, t: number, sizeBytes: number): BenchPayload {
  return { seq, t, pad: padFor(sizeBytes) };
}

/** JSON-encode a payload as the raw clients send it. */
export function encodePayload(payload: BenchPayload): Buffer {
  return Buffer.from(JSON.stringify(payload));
}

/** Decode what {@link encodePayload} produced. */
export function decodePayload(bytes: Uint8Array | string): BenchPayload {
  const text = typeof bytes === 'string' ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  return JSON.parse(text) as BenchPayload;
}

/** How a subject turns payloads into bytes: JSON (the default everywhere) or a pass-through of prepared bytes. */
export type PayloadCodec = 'json' | 'pass-through';

/**
 * Bytes for the pass-through codec: `sizeBytes` bytes with `seq` and `t` as float64 at offsets 0
 * and 8, so a receiver can recover them without parsing. Built outside any codec.
 */
export function payloadBytes(payload: BenchPayload, sizeBytes: number): Uint8Array {
  const bytes = new Uint8Array(Math.max(16, sizeBytes));
  const view = new DataView(bytes.buffer);
  view.setFloat64(0, payload.seq);
  view.setFloat64(8, payload.t);
  return bytes;
}

/** Read back what {@link payloadBytes} wrote (the filler is not materialised). */
export function payloadFromBytes(bytes: Uint8Array): BenchPayload {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { seq: view.getFloat64(0), t: view.getFloat64(8), pad: '' };
}
