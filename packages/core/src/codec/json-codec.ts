import { ErrorCodes } from '../errors/error-codes.js';
import { OmnibusError } from '../errors/omnibus-error.js';
import type { Codec } from './codec.js';
import { encodeUtf8 } from './utf8-slab.js';

/** Keys that can reach an object's prototype when a decoded value is later merged or assigned. */
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
/**
 * True for any text that might hold a forbidden key, literally or through a `\u` escape
 * (`proto` covers `__proto__` and `prototype`). Three substring searches: about 5× cheaper than
 * one regular expression with alternatives on a 1 KiB text.
 */
function maybeForbidden(text: string): boolean {
  return text.includes('\\u') || text.includes('proto') || text.includes('constructor');
}

/** Default bound on decoded payload size: 1 MiB. */
export const DEFAULT_JSON_MAX_BYTES = 1024 * 1024;

/** Options of {@link JsonCodec}. */
export interface JsonCodecOptions {
  /** Reject payloads larger than this many bytes before parsing. Default {@link DEFAULT_JSON_MAX_BYTES}. */
  readonly maxBytes?: number;
  /**
   * What to do with `__proto__`, `constructor` and `prototype` keys in received JSON:
   * `reject` (default) fails with `DECODE_FAILED`; `strip` drops them silently.
   */
  readonly forbiddenKeys?: 'reject' | 'strip';
}

/**
 * UTF-8 JSON codec, safe on hostile input: bounded size, strict UTF-8, no prototype pollution
 * (forbidden keys are rejected or stripped by a reviver, so no decoded object ever carries
 * them), and every failure is an `OmnibusError` (`DECODE_FAILED` / `ENCODE_FAILED`) with a
 * clear message. Stateless and safe for concurrent use.
 */
export class JsonCodec implements Codec {
  /** Always `application/json`. */
  readonly contentType = 'application/json';
  readonly #maxBytes: number;
  readonly #strip: boolean;
  readonly #decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

  constructor(options: JsonCodecOptions = {}) {
    this.#maxBytes = options.maxBytes ?? DEFAULT_JSON_MAX_BYTES;
    this.#strip = options.forbiddenKeys === 'strip';
  }

  /** JSON-encode. @throws OmnibusError `ENCODE_FAILED` for undefined, functions, BigInt or cycles. */
  encode(value: unknown): Uint8Array {
    let text: string | undefined;
    try {
      text = JSON.stringify(value);
    } catch (error) {
      throw new OmnibusError(
        ErrorCodes.ENCODE_FAILED,
        `payload cannot be encoded as JSON: ${message(error)}`,
        { cause: error },
      );
    }
    if (text === undefined) {
      throw new OmnibusError(
        ErrorCodes.ENCODE_FAILED,
        `payload cannot be encoded as JSON: got ${typeof value}`,
      );
    }
    return encodeUtf8(text);
  }

  /** Parse bytes. @throws OmnibusError `DECODE_FAILED` (too large, bad UTF-8, bad JSON, forbidden key). */
  decode(bytes: Uint8Array): unknown {
    if (bytes.byteLength > this.#maxBytes) {
      throw new OmnibusError(
        ErrorCodes.DECODE_FAILED,
        `payload of ${String(bytes.byteLength)} bytes exceeds the JSON codec limit of ${String(this.#maxBytes)} bytes`,
      );
    }
    let text: string;
    try {
      text = this.#decoder.decode(bytes);
    } catch (error) {
      throw new OmnibusError(ErrorCodes.DECODE_FAILED, 'payload is not valid UTF-8', { cause: error });
    }
    const strip = this.#strip;
    try {
      // The guard's reviver runs once per value and dominates decoding; a text in which no
      // forbidden key can occur (none spelled out, no \u escape that could spell one) skips it.
      if (!maybeForbidden(text)) return JSON.parse(text) as unknown;
      return JSON.parse(text, function reviver(this: unknown, key: string, value: unknown): unknown {
        if (!FORBIDDEN_KEYS.has(key)) return value;
        if (strip) return undefined;
        throw new ForbiddenKeyError(key);
      });
    } catch (error) {
      if (error instanceof ForbiddenKeyError) {
        throw new OmnibusError(
          ErrorCodes.DECODE_FAILED,
          `payload contains the forbidden key "${error.key}" (prototype pollution guard)`,
        );
      }
      throw new OmnibusError(ErrorCodes.DECODE_FAILED, `payload is not valid JSON: ${message(error)}`, {
        cause: error,
      });
    }
  }
}

class ForbiddenKeyError extends Error {
  constructor(readonly key: string) {
    super(key);
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
