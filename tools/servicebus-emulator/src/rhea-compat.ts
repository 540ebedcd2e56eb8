/**
 * The one place that touches rhea internals the public typings do not describe.
 *
 * rhea is used here as an AMQP 1.0 *server*, which its typings cover only partly. Every cast to
 * an internal field lives in this file so that a rhea upgrade breaks in one place.
 */
import rhea from 'rhea';
import type { Delivery, Sender, Receiver, Typed } from 'rhea';

/** Reader and Writer exist at runtime on `rhea.types` but are missing from its `types` interface. */
interface AmqpReader {
  position: number;
  read(): Typed;
  remaining(): number;
}
interface AmqpWriter {
  write(o: Typed): void;
  toBuffer(): Buffer;
}
interface TypesInternal {
  Reader: new (buffer: Buffer) => AmqpReader;
  Writer: new () => AmqpWriter;
  Map32(items: Typed[]): Typed;
}
interface MessageInternal {
  header(fields: Record<string, unknown>): { described(): Typed };
  accepted(): { described(): Typed };
  rejected(fields: { error: unknown }): { described(): Typed };
}
interface LinkInternal {
  local: {
    attach: {
      max_message_size?: number;
      properties?: Record<string, unknown>;
      snd_settle_mode?: number;
      rcv_settle_mode?: number;
      source?: unknown;
      target?: unknown;
    };
  };
  remote: { attach?: Record<string, unknown> };
  state: { open_requests: number; local_open: boolean };
}
interface SenderInternal extends LinkInternal {
  _draining: boolean;
  _drained: boolean;
  credit: number;
  delivery_count: number;
  _get_drain(): boolean;
}

/** The rhea singleton container module. */
export const amqp = rhea;
/** rhea's AMQP type helpers. */
export const amqpTypes = rhea.types;
const typesInternal = rhea.types as unknown as TypesInternal;
const messageInternal = rhea.message as unknown as MessageInternal;

/** Creates a Reader over an encoded AMQP buffer. */
export function newReader(buffer: Buffer): AmqpReader {
  return new typesInternal.Reader(buffer);
}

/** Encodes a list of typed values back to back. */
export function encodeTyped(values: readonly Typed[]): Buffer {
  const writer = new typesInternal.Writer();
  for (const value of values) writer.write(value);
  return writer.toBuffer();
}

/** Builds an AMQP map from already-typed keys and values. */
export function typedMap(items: Typed[]): Typed {
  return typesInternal.Map32(items);
}

/** The header section, described, ready for {@link encodeTyped}. */
export function headerSection(fields: Record<string, unknown>): Typed {
  return messageInternal.header(fields).described();
}

/** The `accepted` outcome, described. */
export function acceptedOutcome(): Typed {
  return messageInternal.accepted().described();
}

/** A `rejected` outcome carrying an AMQP error, described. */
export function rejectedOutcome(condition: string, description: string): Typed {
  return messageInternal.rejected({ error: { condition, description } }).described();
}

/**
 * Settles a delivery the server sent, with an outcome.
 *
 * In rcv-settle-mode "second" the client settles silently once it sees our settlement, so rhea's
 * outgoing buffer would never learn `remote_settled` and would keep (and eventually block on)
 * every delivery. Marking it remote-settled lets rhea release it.
 */
export function settleOutgoing(delivery: Delivery, outcome: Typed): void {
  if (delivery.remote_settled && delivery.settled) return;
  delivery.update(true, outcome);
  (delivery as unknown as { remote_settled: boolean }).remote_settled = true;
}

/** Accepts and settles a delivery the server received. */
export function settleIncoming(delivery: Delivery, outcome: Typed): void {
  delivery.update(true, outcome);
}

/** Sets the max message size the server announces on its receiving end of a link. */
export function setMaxMessageSize(link: Receiver, size: number): void {
  (link as unknown as LinkInternal).local.attach.max_message_size = size;
}

/** Sets attach properties the server announces (e.g. the session lock expiry). */
export function setAttachProperties(link: Sender | Receiver, properties: Record<string, unknown>): void {
  (link as unknown as LinkInternal).local.attach.properties = properties;
}

/** Echoes the peer's settle modes so presettled (receive-and-delete) sends work. */
export function echoSettleModes(link: Sender | Receiver): void {
  const internal = link as unknown as LinkInternal;
  const remote = internal.remote.attach ?? {};
  if (typeof remote['snd_settle_mode'] === 'number')
    internal.local.attach.snd_settle_mode = remote['snd_settle_mode'];
  if (typeof remote['rcv_settle_mode'] === 'number')
    internal.local.attach.rcv_settle_mode = remote['rcv_settle_mode'];
}

/** Reads a field of the peer's attach frame. */
export function remoteAttachField(link: Sender | Receiver, name: string): unknown {
  return (link as unknown as LinkInternal).remote.attach?.[name];
}

/**
 * Holds back the attach reply rhea queued when the peer attached, so the server can answer later
 * (used by "accept next session", which waits for a session to become available).
 */
export function deferAttach(link: Sender): void {
  const state = (link as unknown as LinkInternal).state;
  if (state.open_requests > 0) state.open_requests--;
  state.local_open = false;
}

/** Sends the attach reply held back by {@link deferAttach}. */
export function completeAttach(link: Sender): void {
  link.open();
}

/**
 * Makes drain answers work when no credit is left. rhea only echoes `drain=true` when credit
 * remains; the SDK waits for that echo after every `receiveMessages`, also when it used all its
 * credit, and closes the link after 200 ms without it.
 */
export function patchDrain(sender: Sender): void {
  const internal = sender as unknown as SenderInternal;
  internal._get_drain = function getDrain(this: SenderInternal): boolean {
    if (this._draining && this._drained) {
      this.delivery_count += this.credit;
      this.credit = 0;
      return true;
    }
    return false;
  };
}

/**
 * Answers a drain request: rhea then uses up the remaining credit and sends a flow with
 * `drain=true` after any transfers queued before.
 */
export function answerDrain(sender: Sender): void {
  sender.set_drained(true);
  (sender.connection as unknown as { _register(): void })._register();
}

/** Whether the peer has asked this sender to drain its credit. */
export function isDraining(sender: Sender): boolean {
  return (sender as unknown as SenderInternal)._draining;
}

/** Current link credit granted by the peer. */
export function linkCredit(sender: Sender): number {
  return (sender as unknown as SenderInternal).credit;
}
