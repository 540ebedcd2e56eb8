import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';

/** What a settlement tells the broker: only completes (AMQP `accepted`) may share a flush. */
export type DispositionKind = 'complete' | 'other';

/**
 * Keeps settlements of one receiver from being merged wrongly by the AMQP client. rhea 3.0.5
 * (under `@azure/service-bus`) writes the dispositions queued in one tick as ranges of delivery
 * ids and never compares the second delivery's outcome with the first's (`write_dispositions`
 * compares outcomes only once a range holds two deliveries): a dead-letter queued in the same
 * tick as a complete of the previous delivery id goes out as part of the complete's range — the
 * message is completed, not dead-lettered — and a complete behind a dead-letter would be
 * dead-lettered. Only `accepted` outcomes are safe to merge, so completes share a window (one
 * macrotask) and every other settlement (dead-letter, abandon) gets a window of its own, a
 * macrotask later when one is open. Batch handlers settle many deliveries in one tick, which is
 * how contract case W5 found it.
 */
export class DispositionLane {
  #window: DispositionKind | undefined;

  /** Run `settle` in a window where the client cannot merge it with a different outcome. */
  run(kind: DispositionKind, settle: () => Promise<void>): Promise<void> {
    if (this.#window === undefined) {
      this.#window = kind;
      setImmediate(() => {
        this.#window = undefined;
      });
      return settle();
    }
    if (kind === 'complete' && this.#window === 'complete') return settle();
    return new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.run(kind, settle));
  }
}

const lanes = new WeakMap<ServiceBusReceiver, DispositionLane>();

/** The lane of `receiver` (one per receiver: the SDK opens a session per receive link). */
export function dispositionLane(receiver: ServiceBusReceiver): DispositionLane {
  let lane = lanes.get(receiver);
  if (lane === undefined) {
    lane = new DispositionLane();
    lanes.set(receiver, lane);
  }
  return lane;
}

/** `receiver.completeMessage(message)` through the receiver's lane. */
export function completeInLane(
  receiver: ServiceBusReceiver,
  message: ServiceBusReceivedMessage,
): Promise<void> {
  return dispositionLane(receiver).run('complete', () => receiver.completeMessage(message));
}

/** `receiver.abandonMessage(message, propertiesToModify)` through the receiver's lane. */
export function abandonInLane(
  receiver: ServiceBusReceiver,
  message: ServiceBusReceivedMessage,
  propertiesToModify?: Record<string, number | string | boolean>,
): Promise<void> {
  return dispositionLane(receiver).run('other', () => receiver.abandonMessage(message, propertiesToModify));
}
