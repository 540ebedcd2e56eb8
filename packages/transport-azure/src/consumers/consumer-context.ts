import type {
  ServiceBusClient,
  ServiceBusMessage,
  ServiceBusReceivedMessage,
  ServiceBusReceiver,
} from '@azure/service-bus';
import type { DeliveryHandler, OmnibusError, SubscriptionSpec } from '@omnibus/core';
import { createAzureDelivery } from '../azure-delivery.js';
import type { AzureDelivery, AzureDeliveryContext } from '../azure-delivery.js';
import { fromReceivedMessage } from '../message-mapper.js';
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

/**
 * Hand one received message to the router and make sure it ends up settled: a retry copy meant
 * for another group is completed without running the handler, and a message the router left
 * unsettled (it should not happen) is abandoned so the broker redelivers it. The delivery is in
 * `inFlight` while the handler runs, so a closing consumer can release it.
 */
export async function handleMessage(
  message: ServiceBusReceivedMessage,
  receiver: ServiceBusReceiver,
  context: ConsumerContext,
  retryMode: AzureDeliveryContext['retryMode'],
  wait: (ms: number) => Promise<void>,
  inFlight: Set<AzureDelivery>,
  confirmRemoved?: (message: ServiceBusReceivedMessage) => Promise<boolean>,
): Promise<void> {
  const decoded = fromReceivedMessage(message);
  const delivery = createAzureDelivery(message, decoded, {
    receiver,
    destination: context.spec.destination,
    group: context.spec.group,
    subscription: context.subscription,
    retryMode,
    sendCopy: context.sendCopy,
    wait,
    maxRetryDelayMs: context.maxRetryDelayMs,
    ...(confirmRemoved === undefined ? {} : { confirmRemoved }),
  });
  inFlight.add(delivery);
  try {
    await context.onDelivery(delivery);
  } finally {
    inFlight.delete(delivery);
    await delivery.release();
  }
}

/** True when the message is a retry copy scheduled by another group (drop it for this one). */
export function isOtherGroupsRetry(message: ServiceBusReceivedMessage, subscription: string): boolean {
  const target = fromReceivedMessage(message).retryTarget;
  return target !== undefined && target !== subscription;
}

/** Abandon, ignoring failures: a message whose lock is gone is redelivered by the broker anyway. */
export async function releaseQuietly(
  receiver: ServiceBusReceiver,
  message: ServiceBusReceivedMessage,
): Promise<void> {
  // On a closed link the SDK could only time out (see receivedOnClosedLink); the lock expires.
  if (receivedOnClosedLink(message)) return;
  try {
    await settleWhileLinkOpen(message, abandonInLane(receiver, message), () => new Error('link closed'));
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

/** A sleep that ends early when `signal` aborts. Never rejects. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted === true) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Exponential backoff for receive-loop errors: 200 ms doubling up to 5 s. */
export function backoffMs(consecutiveErrors: number): number {
  return Math.min(5_000, 200 * 2 ** Math.min(consecutiveErrors, 5));
}
