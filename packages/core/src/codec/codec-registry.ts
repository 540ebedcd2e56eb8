import type { Codec } from './codec.js';

/**
 * Codecs by content type. Lookup ignores case and parameters (`application/json; charset=utf-8`
 * finds `application/json`). The last codec registered for a type wins. Not synchronised:
 * fill it before the bus starts.
 */
export class CodecRegistry {
  readonly #byType = new Map<string, Codec>();

  constructor(codecs: readonly Codec[] = []) {
    for (const codec of codecs) this.register(codec);
  }

  /** Add or replace the codec for its content type. */
  register(codec: Codec): void {
    this.#byType.set(normalizeContentType(codec.contentType), codec);
  }

  /** The codec for a content type, or `undefined`. */
  get(contentType: string): Codec | undefined {
    return this.#byType.get(contentType) ?? this.#byType.get(normalizeContentType(contentType));
  }

  /** Registered content types. */
  contentTypes(): readonly string[] {
    return [...this.#byType.keys()];
  }
}

/** `Application/JSON; charset=utf-8` → `application/json`. Pure. */
export function normalizeContentType(contentType: string): string {
  return (contentType.split(';')[0] ?? '').trim().toLowerCase();
}
