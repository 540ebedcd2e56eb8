/**
 * Turns payload values into bytes and back. Implementations must be stateless or otherwise
 * safe to call concurrently, must never mutate global state while decoding untrusted bytes,
 * and must throw an `OmnibusError` with code `ENCODE_FAILED` / `DECODE_FAILED` on failure
 * (the router dead-letters decode failures with that reason).
 */
export interface Codec {
  /** MIME type written to the envelope, e.g. `application/json`. */
  readonly contentType: string;
  /** Encode a payload value. @throws OmnibusError `ENCODE_FAILED`. */
  encode(value: unknown): Uint8Array;
  /** Decode received bytes. @throws OmnibusError `DECODE_FAILED`. */
  decode(bytes: Uint8Array): unknown;
}
