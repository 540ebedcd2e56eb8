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
