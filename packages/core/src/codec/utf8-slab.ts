/** Slab size: a retained encoding keeps at most this much memory alive (Node's `Buffer` pool uses 8 KiB). */
const SLAB_BYTES = 16 * 1024;
/** Longest text (in UTF-16 code units) written into a slab: its UTF-8 form is at most 3 bytes per unit. */
const MAX_SLAB_TEXT = 1536;

const encoder = new TextEncoder();
let slab = Buffer.alloc(0);
let offset = 0;

/**
 * UTF-8 bytes of `text` as a plain `Uint8Array` (what `TextEncoder.encode` returns, byte for
 * byte). Short texts are written into a shared, zero-filled, bump-allocated slab whose regions
 * are never reused, so the result is never overwritten; this avoids allocating one
 * `ArrayBuffer` per message, which costs far more than writing the bytes. The result's
 * `buffer` is then the slab: readers must honour `byteOffset`/`byteLength` (every Omnibus codec
 * and adapter does). Longer texts get their own buffer. Single event loop only (synchronous).
 * @internal
 */
export function encodeUtf8(text: string): Uint8Array {
  const length = text.length;
  if (length > MAX_SLAB_TEXT) return encoder.encode(text);
  if (offset + length * 3 > slab.length) {
    slab = Buffer.alloc(SLAB_BYTES);
    offset = 0;
  }
  const written = slab.write(text, offset, 'utf8');
  const bytes = new Uint8Array(slab.buffer, slab.byteOffset + offset, written);
  offset += (written + 7) & ~7;
  return bytes;
}
