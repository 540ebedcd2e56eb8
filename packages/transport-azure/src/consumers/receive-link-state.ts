import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';

/** The part of the SDK's received message this module reads: rhea's delivery and its link. */
interface WithDeliveryLink {
  readonly delivery?: { readonly link?: { readonly is_open?: unknown } | null } | null;
}

/**
 * True when the AMQP link the message was received on is known to be gone: its connection
 * dropped (or the receiver was closed) since the message arrived.
 *
 * Why the transport checks this itself: `@azure/service-bus` 7.x settles a message through the
 * link it arrived on. After a dropped connection the SDK re-attaches the receiver under the same
 * link name, finds that new link for the old message, writes the disposition to the dead
 * connection and waits a full operation timeout, once per retry (`maxRetries + 1` times), before
 * failing. The SDK's fallback (settling by lock token over `$management`) is skipped for every
 * message with a session id, and Omnibus sets one on every message. So a settlement of such a
 * message can only fail; checking first makes it fail at once instead of after minutes.
 *
 * Reads the SDK's internal `delivery.link` (rhea's `Receiver.is_open()`); when that shape is
 * absent (another SDK version), it answers false and settlement takes the SDK's normal path.
 * Pure and synchronous.
 */
export function receivedOnClosedLink(message: ServiceBusReceivedMessage): boolean {
  const link = (message as unknown as WithDeliveryLink).delivery?.link;
  if (link === undefined || link === null || typeof link.is_open !== 'function') return false;
  return (link.is_open as () => unknown).call(link) !== true;
}

/** How often a pending settlement checks whether its link is still open. */
const LINK_POLL_MS = 100;

/**
 * Wait for `settlement`, but reject with `closedError()` as soon as the link the message was
 * received on closes while it is pending (a connection dropped mid-settlement: the SDK would
 * otherwise wait out its operation timeout once per retry, see {@link receivedOnClosedLink}).
 * The abandoned SDK call is left to fail on its own; its rejection is swallowed. Whether the
 * broker applied the disposition is then unknown: usually not, and the message comes back when
 * its lock expires.
 */
export function settleWhileLinkOpen<T>(
  message: ServiceBusReceivedMessage,
  settlement: Promise<T>,
  closedError: () => Error,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setInterval(() => {
      if (!receivedOnClosedLink(message)) return;
      clearInterval(timer);
      settlement.catch(() => undefined);
      reject(closedError());
    }, LINK_POLL_MS);
    timer.unref();
    settlement.then(
      (value) => {
        clearInterval(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearInterval(timer);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

/**
 * After a settlement that removes the message (complete, dead-letter) was cut off by a dropped
 * connection: true only when a peek by sequence number (over `$management`, on the reconnected
 * receiver) shows the message is no longer in the subscription, while its lock is still valid,
 * so nobody else can have taken it: the broker did apply the settlement. False when it is still
 * there, when the peek fails or takes longer than `timeoutMs`, or when the lock may have
 * expired meanwhile (then the answer would prove nothing). Never rejects.
 */
export async function confirmRemovedByPeek(
  receiver: ServiceBusReceiver,
  message: ServiceBusReceivedMessage,
  timeoutMs: number,
): Promise<boolean> {
  const sequenceNumber = message.sequenceNumber;
  if (sequenceNumber === undefined) return false;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), timeoutMs);
    timer.unref();
  });
  try {
    const peeked = await Promise.race([
      receiver.peekMessages(1, { fromSequenceNumber: sequenceNumber }),
      timeout,
    ]);
    if (peeked === undefined) return false;
    if (Date.now() >= (message.lockedUntilUtc?.getTime() ?? 0)) return false;
    const [first] = peeked;
    return first?.sequenceNumber === undefined || !first.sequenceNumber.equals(sequenceNumber);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** The part of the SDK's receivers {@link allowSlowDrain} writes: the batching receiver's drain timeout. */
interface WithDrainTimeout {
  _drainTimeoutInMs?: unknown;
}
interface SdkReceiverInternals {
  /** Non-session receivers: created on the first `receiveMessages` and again after its link closed. */
  readonly _batchingReceiver?: { readonly _batchingReceiverLite?: WithDrainTimeout } | null;
  /** Session receivers: created when the session is accepted. */
  readonly _messageSession?: { readonly _batchingReceiverLite?: WithDrainTimeout } | null;
}

/**
 * Let a `receiveMessages` call that ends with credit left wait up to `timeoutMs` for the
 * broker's answer to its drain, instead of the SDK's fixed 200 ms.
 *
 * Why: when fewer messages than asked for arrived (an idle wait ended), `@azure/service-bus` 7.x
 * drains the link's credit and, when the broker's answer is not seen within 200 ms, closes the
 * receive link. On a loaded machine the answer is often seen later than that (a client event
 * loop busy for 200 ms runs the timer before it reads the socket). Closing the link then (1)
 * makes every message received on it unsettleable (`SETTLEMENT_FAILED`, redelivered after its
 * lock expires: a duplicate), and (2) drops a message the broker was sending as the drain
 * crossed it: it is counted as delivered, never reaches a handler, and comes back with its
 * attempt number one too high (for a session receiver, as soon as the session is released).
 * A broker that never answers a drain is a dead connection, which the SDK detects on its own;
 * so the wait is bounded by the operation timeout.
 *
 * Writes the SDK's internal `_drainTimeoutInMs` (a field the SDK itself calls a testing hook) on
 * the receiver's current batching receiver; when that shape is absent (another SDK version) it
 * does nothing and the SDK's default applies. Call it after accepting a session, and after each
 * `receiveMessages` call starts (the SDK creates a non-session batching receiver inside it).
 */
export function allowSlowDrain(receiver: ServiceBusReceiver, timeoutMs: number): void {
  const internals = receiver as unknown as SdkReceiverInternals;
  const lite =
    internals._batchingReceiver?._batchingReceiverLite ?? internals._messageSession?._batchingReceiverLite;
  if (lite !== undefined && typeof lite._drainTimeoutInMs === 'number') lite._drainTimeoutInMs = timeoutMs;
}
