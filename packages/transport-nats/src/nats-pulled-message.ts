import type { Msg, MsgHdrs } from '@nats-io/transport-node';

/** Delivery facts JetStream encodes in the ack subject of a consumed message. */
export interface PulledInfo {
  readonly stream: string;
  readonly consumer: string;
  /** How many times the server delivered this message to the consumer (1 on the first delivery). */
  readonly deliveryCount: number;
  readonly streamSequence: number;
  /** When the server stored the message (ns since epoch). */
  readonly timestampNanos: number;
}

/**
 * Parse a JetStream ack subject: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ns>.<pending>`
 * or the newer `$JS.ACK.<domain>.<account>.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<ns>.<pending>[.<token>]`.
 * `undefined` for anything else (not a JetStream delivery). Pure.
 */
export function parseAckSubject(subject: string): PulledInfo | undefined {
  const tokens = subject.split('.');
  if (tokens[0] !== '$JS' || tokens[1] !== 'ACK') return undefined;
  const at = tokens.length === 9 ? 2 : tokens.length >= 11 ? 4 : -1;
  if (at < 0) return undefined;
  const numbers = [tokens[at + 2], tokens[at + 3], tokens[at + 5]].map((t) => Number(t));
  const [deliveryCount, streamSequence, timestampNanos] = numbers as [number, number, number];
  if (!numbers.every((n) => Number.isFinite(n) && n >= 0) || deliveryCount < 1) return undefined;
  return {
    stream: tokens[at] ?? '',
    consumer: tokens[at + 1] ?? '',
    deliveryCount,
    streamSequence,
    timestampNanos,
  };
}

const ACK = new TextEncoder().encode('+ACK');
const NAK = new TextEncoder().encode('-NAK');
const WORKING = new TextEncoder().encode('+WPI');

/**
 * One message a pull request of the adapter received, settled with the JetStream ack protocol on
 * its reply subject: `+ACK` (confirmed with a request), `-NAK` (optionally with a delay), `+WPI`
 * (extend the ack wait).
 */
export class PulledMessage {
  readonly msg: Msg;
  readonly info: PulledInfo;

  constructor(msg: Msg, info: PulledInfo) {
    this.msg = msg;
    this.info = info;
  }

  get data(): Uint8Array {
    return this.msg.data;
  }

  get headers(): MsgHdrs | undefined {
    return this.msg.headers;
  }

  /** The ack subject (where settlements go). */
  get reply(): string {
    return this.msg.reply ?? '';
  }

  /** Stream sequence. */
  get seq(): number {
    return this.info.streamSequence;
  }

  /** The `+ACK` body, for a confirmed ack sent as a request. */
  static readonly ackBody: Uint8Array = ACK;

  /** Negative ack: redeliver now, or no sooner than `delayMs`. Fire and forget (see the caller's flush). */
  nak(delayMs?: number): void {
    const body =
      delayMs !== undefined && delayMs > 0
        ? new TextEncoder().encode(`-NAK ${JSON.stringify({ delay: Math.round(delayMs) * 1_000_000 })}`)
        : NAK;
    this.msg.respond(body);
  }

  /** Reset the ack wait: the handler is still working. */
  working(): void {
    this.msg.respond(WORKING);
  }
}
