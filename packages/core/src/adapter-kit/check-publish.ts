import { ErrorCodes } from '../errors/error-codes.js';
import { OmnibusError } from '../errors/omnibus-error.js';
import type { TransportCapabilities } from '../transport/capabilities.js';
import type { OutgoingMessage } from '../transport/outgoing-message.js';

/** The part of a transport {@link publish} checks against. */
export interface PublishLimits {
  /** Transport name used in error messages, e.g. `kafka`. */
  readonly name: string;
  /** Its declared capabilities: `maxPayloadBytes` and `delayedDelivery` are enforced. */
  readonly capabilities: Pick<TransportCapabilities, 'maxPayloadBytes' | 'delayedDelivery'>;
}

/**
 * Check one outgoing message against the transport's declared limits before anything of a
 * publish call is sent, and return its delay in ms (0 for none). Throws (never asynchronously)
 * `PAYLOAD_TOO_LARGE` when the payload exceeds `capabilities.maxPayloadBytes`, and
 * `DELAY_OUT_OF_RANGE` when `delayMs` is negative, not finite, above
 * `delayedDelivery.maxDelayMs` or set on a transport without delayed delivery. A delay is never
 * shortened. Pure; allocates nothing unless it throws. Checks that depend on the wire form
 * (headers counted into a broker's size limit) stay in the adapter.
 */
export function checkPublish(
  transport: PublishLimits,
  destination: string,
  message: OutgoingMessage,
): number {
  const { envelope } = message;
  const { capabilities } = transport;
  checkPayloadSize(
    envelope.payload.byteLength,
    transport.name,
    capabilities.maxPayloadBytes,
    message,
    destination,
  );
  return checkPublishDelay(
    message.delayMs,
    transport.name,
    capabilities.delayedDelivery,
    message,
    destination,
  );
}

/**
 * The size half of {@link checkPublish}: throws `PAYLOAD_TOO_LARGE` when `bytes` exceeds `limit`.
 * `subject` names what is published in the error (an event name, or the message for a message id).
 */
export function checkPayloadSize(
  bytes: number,
  transportName: string,
  limit: number,
  subject: string | OutgoingMessage,
  destination?: string,
): void {
  if (bytes <= limit) return;
  throw new OmnibusError(
    ErrorCodes.PAYLOAD_TOO_LARGE,
    `payload of ${describe(subject, destination)} is ${String(bytes)} bytes; transport "${transportName}" accepts at most ${String(limit)} bytes`,
  );
}

/**
 * The delay half of {@link checkPublish}: returns `delayMs` (0 when undefined) or throws
 * `DELAY_OUT_OF_RANGE` when the transport cannot honour it.
 */
export function checkPublishDelay(
  delayMs: number | undefined,
  transportName: string,
  support: TransportCapabilities['delayedDelivery'],
  subject: string | OutgoingMessage,
  destination?: string,
): number {
  if (delayMs === undefined || delayMs === 0) return 0;
  if (!Number.isFinite(delayMs) || delayMs < 0)
    throw new OmnibusError(
      ErrorCodes.DELAY_OUT_OF_RANGE,
      `delayMs of ${describe(subject, destination)} must be a finite number ≥ 0, got ${String(delayMs)}`,
    );
  if (support === false)
    throw new OmnibusError(
      ErrorCodes.DELAY_OUT_OF_RANGE,
      `transport "${transportName}" does not support delayed delivery (delayMs ${String(delayMs)} for ${describe(subject, destination)})`,
    );
  if (delayMs > support.maxDelayMs)
    throw new OmnibusError(
      ErrorCodes.DELAY_OUT_OF_RANGE,
      `delayMs ${String(delayMs)} of ${describe(subject, destination)} exceeds transport "${transportName}"'s maximum of ${String(support.maxDelayMs)} ms`,
    );
  return delayMs;
}

function describe(subject: string | OutgoingMessage, destination: string | undefined): string {
  const what = typeof subject === 'string' ? subject : `message ${subject.envelope.id}`;
  return destination === undefined ? what : `${what} to "${destination}"`;
}
