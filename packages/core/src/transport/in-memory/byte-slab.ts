/** Largest payload copied into a shared slab; larger ones get their own buffer. */
const MAX_SLAB_COPY = 2048;
/** Slab size: a retained message keeps at most this much alive (like Node's 8 KiB Buffer pool). */
const SLAB_BYTES = 16 * 1024;

let slab = new Uint8Array(0);
let offset = 0;

/**
 * A private copy of `source` as a plain `Uint8Array`. Small payloads are copied into a shared
 * bump-allocated slab (regions are never reused, so a copy is never overwritten), which costs
 * far less than allocating an `ArrayBuffer` per message; the copy's `buffer` is then the slab,
 * so readers must honour `byteOffset`/`byteLength` (every Omnibus codec and adapter does).
 * Always a real copy, even when `source` is a `Buffer` (whose `slice()` would alias it).
 */
export function copyBytes(source: Uint8Array): Uint8Array {
  const length = source.byteLength;
  if (length > MAX_SLAB_COPY) {
    const own = new Uint8Array(length);
    own.set(source);
    return own;
  }
  if (offset + length > slab.length) {
    slab = new Uint8Array(SLAB_BYTES);
    offset = 0;
  }
  const copy = slab.subarray(offset, offset + length);
  copy.set(source);
  offset += (length + 7) & ~7;
  return copy;
}
