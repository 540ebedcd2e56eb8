import { randomBytes } from 'node:crypto';

/** Random bytes come from a pooled buffer: one `randomBytes` call per 4 KiB instead of one or two per message. */
const POOL_BYTES = 4096;
let pool = Buffer.alloc(0);
let poolOffset = 0;

/** ASCII codes of the hex digits. */
const HEX = Buffer.from('0123456789abcdef', 'latin1');
/** Scratch space the ids are formatted in (then read out as one flat string). */
const scratch = Buffer.alloc(64);

/**
 * Reserve `bytes` random bytes of the pool and return their offset; neither the first `split`
 * bytes nor the rest are all zero (an all-zero trace or span id is invalid, so it is redrawn).
 */
function draw(bytes: number, split: number): number {
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

/** Write `count` bytes of `source` from `from` as lowercase hex into the scratch at `at`; returns the next position. */
function writeHex(source: Uint8Array, from: number, count: number, at: number): number {
  let position = at;
  for (let i = from; i < from + count; i += 1) {
    const byte = source[i] as number;
    scratch[position] = HEX[byte >> 4] as number;
    scratch[position + 1] = HEX[byte & 15] as number;
    position += 2;
  }
  return position;
}

/** Write an ASCII text into the scratch at `at`; returns the next position. */
function writeText(text: string, at: number): number {
  return at + scratch.write(text, at, 'latin1');
}

/**
 * A random (version 4) UUID, like `crypto.randomUUID()`, as one flat string: Node's builds it
 * from about twenty concatenated two-digit pieces, which stay alive as a string tree for as
 * long as the id does (about 0.6 KB per message id). Drawn from a pooled random buffer.
 */
export function randomUuid(): string {
  const start = draw(16, 16);
  pool[start + 6] = ((pool[start + 6] as number) & 0x0f) | 0x40;
  pool[start + 8] = ((pool[start + 8] as number) & 0x3f) | 0x80;
  let at = writeHex(pool, start, 4, 0);
  scratch[at++] = 0x2d;
  at = writeHex(pool, start + 4, 2, at);
  scratch[at++] = 0x2d;
  at = writeHex(pool, start + 6, 2, at);
  scratch[at++] = 0x2d;
  at = writeHex(pool, start + 8, 2, at);
  scratch[at++] = 0x2d;
  at = writeHex(pool, start + 10, 6, at);
  return scratch.toString('latin1', 0, at);
}

/**
 * A version-00 W3C `traceparent` as one flat string: `traceId` (32 hex digits) when given, else
 * a new random trace id; always a new random span id; `flags` (2 hex digits) default `01`.
 */
export function randomTraceparent(traceId?: string, flags = '01'): string {
  let at = writeText('00-', 0);
  if (traceId === undefined) {
    const start = draw(24, 16);
    at = writeHex(pool, start, 16, at);
    scratch[at++] = 0x2d;
    at = writeHex(pool, start + 16, 8, at);
  } else {
    at = writeText(traceId, at);
    scratch[at++] = 0x2d;
    at = writeHex(pool, draw(8, 8), 8, at);
  }
  scratch[at++] = 0x2d;
  at = writeText(flags, at);
  return scratch.toString('latin1', 0, at);
}
