import { createInbox } from '@nats-io/transport-node';
import type { Msg, NatsConnection, Subscription } from '@nats-io/transport-node';
import { withTimeout } from '@omnibus/core/adapter-kit';
import { PulledMessage, parseAckSubject } from './nats-pulled-message.js';

/** How one pull request ended. */
export type PullOutcome =
  | { readonly kind: 'fulfilled' }
  | { readonly kind: 'expired' }
  /** The connection dropped, the puller closed, or the server never answered by the deadline. */
  | { readonly kind: 'lost' }
  /** The server refused or cut it short (409 and the like): status code and description. */
  | { readonly kind: 'refused'; readonly code: number; readonly description: string };

/** What a {@link NatsPuller} needs. */
export interface NatsPullerOptions {
  readonly nc: NatsConnection;
  readonly stream: string;
  readonly consumer: string;
  /** Server-side expiry of one pull request (ms). */
  readonly expiresMs: number;
  /** Receives every message delivered to this puller, including late ones and those arriving while it closes. */
  readonly onMessage: (message: PulledMessage) => void;
  /** Receives what cannot be thrown (a delivery without a JetStream ack subject). */
  readonly onError: (error: unknown) => void;
}

/** How long past its expiry an unanswered request is given up (the server is slow under load). */
const DEADLINE_GRACE_MS = 5_000;
/** Bound of the unsubscribe round trip at close. */
const CLOSE_FLUSH_MS = 5_000;

interface OpenRequest {
  readonly subject: string;
  remaining: number;
  readonly timer: NodeJS.Timeout;
  readonly resolve: (outcome: PullOutcome) => void;
}

/**
 * Pull requests of one durable consumer, all answered to ONE inbox subscription that lives as
 * long as the puller: a message the server hands to a request is always received and passed to
 * `onMessage`, however late — never dropped because the client had given up on the request
 * (the server would count that delivery and bring the message back only after the ack wait,
 * with its delivery count, the attempt, raised). One request is open at a time.
 *
 * Closing unsubscribes and waits for the server to confirm (the server drops a waiting request
 * whose reply subject has no interest, so nothing more is handed out); messages the server sent
 * before it processed the unsubscribe still reach `onMessage`.
 */
export class NatsPuller {
  readonly #options: NatsPullerOptions;
  readonly #prefix = createInbox();
  readonly #subject: string;
  readonly #sub: Subscription;
  #serial = 0;
  #open: OpenRequest | undefined;
  #closing: Promise<void> | undefined;

  constructor(options: NatsPullerOptions) {
    this.#options = options;
    this.#subject = `$JS.API.CONSUMER.MSG.NEXT.${options.stream}.${options.consumer}`;
    this.#sub = options.nc.subscribe(`${this.#prefix}.*`, {
      callback: (error, msg) => {
        if (error === null) this.#received(msg);
        else options.onError(error);
      },
    });
  }

  /**
   * Ask for up to `batch` messages; resolves when the request ended: every message came
   * (`fulfilled`), the server expired it (`expired`), refused it (`refused`), or it was given up
   * (`lost`: connection dropped — see {@link connectionLost} — puller closed, or no answer by
   * its expiry plus a grace period). Messages arrive through `onMessage` meanwhile. Never rejects.
   */
  pull(batch: number): Promise<PullOutcome> {
    if (this.#closing !== undefined) return Promise.resolve({ kind: 'lost' });
    this.#end({ kind: 'lost' });
    const subject = `${this.#prefix}.${String((this.#serial += 1))}`;
    return new Promise<PullOutcome>((resolve) => {
      const timer = setTimeout(
        () => this.#end({ kind: 'lost' }),
        this.#options.expiresMs + DEADLINE_GRACE_MS,
      );
      this.#open = { subject, remaining: batch, timer, resolve };
      try {
        this.#options.nc.publish(
          this.#subject,
          JSON.stringify({ batch, expires: this.#options.expiresMs * 1_000_000 }),
          { reply: subject },
        );
      } catch {
        // Closed connection: nothing was sent.
        this.#end({ kind: 'lost' });
      }
    });
  }

  /**
   * The connection dropped: the server forgot the open request (a reconnected client gets a
   * new one). A message it sent that still arrives is received all the same.
   */
  connectionLost(): void {
    this.#end({ kind: 'lost' });
  }

  /** Stop: unsubscribe, wait (bounded) for the server to confirm. Idempotent; never rejects. */
  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.#end({ kind: 'lost' });
    if (this.#sub.isClosed()) return;
    const drained = this.#sub.drain().catch(() => undefined);
    const result = await withTimeout(drained, CLOSE_FLUSH_MS);
    if (!result.settled) this.#sub.unsubscribe();
  }

  #received(msg: Msg): void {
    const open = this.#open;
    if (msg.subject.startsWith(`${this.#prefix}.`)) {
      // A status of one of our requests (408 expired, 409 refused...); 100 is a heartbeat.
      const code = msg.headers?.code ?? 0;
      if (open === undefined || msg.subject !== open.subject || code === 100) return;
      if (code === 404 || code === 408) this.#end({ kind: 'expired' });
      else this.#end({ kind: 'refused', code, description: msg.headers?.description ?? '' });
      return;
    }
    const info = parseAckSubject(msg.reply ?? '');
    if (info === undefined) {
      this.#options.onError(
        new Error(`NATS: a pulled message without a JetStream ack subject (${msg.subject})`),
      );
      return;
    }
    this.#options.onMessage(new PulledMessage(msg, info));
    if (open !== undefined) {
      open.remaining -= 1;
      if (open.remaining <= 0) this.#end({ kind: 'fulfilled' });
    }
  }

  #end(outcome: PullOutcome): void {
    const open = this.#open;
    if (open === undefined) return;
    this.#open = undefined;
    clearTimeout(open.timer);
    open.resolve(outcome);
  }
}
