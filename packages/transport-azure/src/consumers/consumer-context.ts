import type {
  ServiceBusClient,
  ServiceBusMessage,
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
} from '@azure/service-bus';
import type { DeliveryHandler, OmnibusError, SubscriptionSpec } from '@omnibus/core';
import { SettleOnceDelivery } from '@omnibus/core/adapter-kit';
import { AzureSettlement } from '../azure-delivery.js';
import type { AzureDelivery, AzureSettlementContext } from '../azure-delivery.js';
import { fromReceivedMessage, uncountedReceiveProperties } from '../message-mapper.js';
import { abandonInLane, completeInLane } from './disposition-lane.js';
import { receivedOnClosedLink, settleWhileLinkOpen } from './receive-link-state.js';

/** What a consumer needs from its transport. */
export interface ConsumerContext {
  readonly client: ServiceBusClient;
  readonly topic: string;
  readonly subscription: string;
  readonly spec: SubscriptionSpec;
  readonly onDelivery: DeliveryHandler;
  /** Longest one receive call waits; also the idle time after which a session is released. */
  readonly receiveWaitMs: number;
  /** Timeout of one SDK operation (bounds the check after a settlement cut off by a dropped connection). */
  readonly operationTimeoutMs: number;
  /** Longest retry delay accepted. */
  readonly maxRetryDelayMs: number;
  /** Sends a retry copy to the topic, durably. */
  readonly sendCopy: (copy: ServiceBusMessage) => Promise<void>;
  /** A receive loop hit an error (it backs off and keeps going). */
  readonly onError: (error: OmnibusError) => void;
  /** A receive loop succeeded again after errors. */
  readonly onHealthy: () => void;
}

/** A running consumer of one subscription. */
export interface Consumer {
  /** Begin receiving. Called once. */
  start(): void;
  /** Stop intake, release unstarted messages, wait up to `drainTimeoutMs` for in-flight ones, detach. Idempotent. */
  close(drainTimeoutMs: number): Promise<void>;
}

/** The settlement port of one consumer's deliveries (see {@link AzureSettlement}). */
export function settlementFor(
  context: ConsumerContext,
  retryMode: AzureSettlementContext['retryMode'],
  wait: (ms: number) => Promise<unknown>,
  confirmRemoved?: AzureSettlementContext['confirmRemoved'],
): AzureSettlement {
  return new AzureSettlement({
    destination: context.spec.destination,
    group: context.spec.group,
    subscription: context.subscription,
    retryMode,
    sendCopy: context.sendCopy,
    wait: async (ms) => {
      await wait(ms);
    },
    maxRetryDelayMs: context.maxRetryDelayMs,
    ...(confirmRemoved === undefined ? {} : { confirmRemoved }),
  });
}

/**
 * Hand one received message to the router and make sure it ends up settled: a message the
 * router left unsettled (it should not happen) is abandoned so the broker redelivers it, and a
 * later settlement of it rejects. The delivery is in `inFlight` while the handler runs, so a
 * closing consumer can give it back ({@link giveBack}).
 */
export async function handleMessage(
  message: ServiceBusReceivedMessage,
  receiver: ServiceBusReceiver,
  context: ConsumerContext,
  settlement: AzureSettlement,
  inFlight: Set<AzureDelivery>,
): Promise<void> {
  const decoded = fromReceivedMessage(message);
  const delivery = new SettleOnceDelivery(
    settlement,
    { message, receiver },
    decoded.envelope,
    decoded.deliveryAttempt,
  );
  inFlight.add(delivery);
  try {
    await context.onDelivery(delivery);
  } finally {
    inFlight.delete(delivery);
    await giveBack(delivery);
  }
}

/**
 * Abandon a delivery a handler saw unless it was settled (the broker counts the attempt), and
 * make every later settlement of it reject with `SETTLEMENT_FAILED` (the kit's `release()`).
 * Never rejects.
 */
export async function giveBack(delivery: AzureDelivery): Promise<void> {
  if (!delivery.release()) return;
  const { message, receiver } = delivery.native;
  // On a closed link the abandon could only time out; the lock expires on its own.
  if (receivedOnClosedLink(message)) return;
  await settleWhileLinkOpen(message, abandonInLane(receiver, message), () => new Error('link closed')).catch(
    () => undefined,
  );
}

/** True when the message is a retry copy scheduled by another group (drop it for this one). */
export function isOtherGroupsRetry(message: ServiceBusReceivedMessage, subscription: string): boolean {
  const target = fromReceivedMessage(message).retryTarget;
  return target !== undefined && target !== subscription;
}

/**
 * Give back a message no handler saw (received while closing, or never started): abandon it,
 * marking the receive as not counted (`omnibus-uncounted-receives`, see
 * {@link uncountedReceiveProperties}) so its next delivery keeps the attempt number in this and in
 * any other process. Ignores failures: a message whose lock is gone is redelivered by the broker
 * anyway (then with the attempt one higher).
 */
export async function releaseQuietly(
  receiver: ServiceBusReceiver,
  message: ServiceBusReceivedMessage,
): Promise<void> {
  // On a closed link the SDK could only time out (see receivedOnClosedLink); the lock expires.
  if (receivedOnClosedLink(message)) return;
  try {
    await settleWhileLinkOpen(
      message,
      abandonInLane(receiver, message, uncountedReceiveProperties(message)),
      () => new Error('link closed'),
    );
  } catch {
    // lock lost or receiver closed: the broker redelivers after the lock expires
  }
}

/** Complete, ignoring failures (used to drop another group's retry copy; a failure only means it is seen again). */
export async function completeQuietly(
  receiver: ServiceBusReceiver,
  message: ServiceBusReceivedMessage,
): Promise<void> {
  if (receivedOnClosedLink(message)) return;
  try {
    await settleWhileLinkOpen(message, completeInLane(receiver, message), () => new Error('link closed'));
  } catch {
    // it will be dropped again on redelivery
  }
}

/** Exponential backoff for receive-loop errors: 200 ms doubling up to 5 s. */
export function backoffMs(consecutiveErrors: number): number {
  return Math.min(5_000, 200 * 2 ** Math.min(consecutiveErrors, 5));
}
