import type { MessageEnvelope } from '../message/envelope.js';

/** One message handed to {@link Transport.publish}. */
export interface OutgoingMessage {
  readonly envelope: MessageEnvelope;
  /** Deliver no sooner than this many ms after publish (rule 13). Omitted or 0: at once. */
  readonly delayMs?: number;
}
