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
