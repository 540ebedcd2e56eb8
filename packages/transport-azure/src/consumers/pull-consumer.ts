import { KeyedDispatcher } from '@omnibus/core';
import { sleep } from '@omnibus/core/adapter-kit';
import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { mapAzureError } from '../azure-error-mapper.js';
import {
  backoffMs,
  completeQuietly,
  giveBack,
  handleMessage,
  isOtherGroupsRetry,
  releaseQuietly,
  settlementFor,
} from './consumer-context.js';
import type { Consumer, ConsumerContext } from './consumer-context.js';
import { keepMessageLocked, lockRenewalWindowMs } from './message-lock-keeper.js';
import { allowSlowDrain, confirmRemovedByPeek } from './receive-link-state.js';
import type { MessageLockKeeper } from './message-lock-keeper.js';
import type { AzureDelivery } from '../azure-delivery.js';

/**
 * Consumer for an unordered group: one peek-lock receiver on the subscription, a pull loop
 * (`receiveMessages`) that only asks for as many messages as the {@link KeyedDispatcher} has free
 * slots, so at most `spec.concurrency` handlers run and nothing sits locked in a local buffer.
 * Each message's lock is renewed (by {@link keepMessageLocked}, not the SDK) from receipt until
 * its delivery is done, for at most `handlerTimeoutMs` + 1 min (at least 5 min).
 *
 * Dropped connections: the SDK reconnects the receiver on the next receive. Deliveries received
 * before the drop cannot be settled any more (they reject with `SETTLEMENT_FAILED` at once, see
 * `receivedOnClosedLink`); their renewal stops when their handler is done, so Service Bus
 * redelivers them when the lock expires. A complete or dead-letter cut off mid-flight is checked
 * with a peek by sequence number (`confirmRemovedByPeek`): it resolves if the broker applied it.
 *
 * Close: stop asking for messages, abandon any received but not started (they are redelivered,
 * with the broker's delivery count one higher), wait up to the drain time for running handlers,
 * abandon the messages of handlers still running after that (their later settlement
 * rejects), then close the receiver.
 */
export class PullConsumer implements Consumer {
  readonly #context: ConsumerContext;
  readonly #receiver: ServiceBusReceiver;
  readonly #dispatcher: KeyedDispatcher<ServiceBusReceivedMessage>;
  readonly #stop = new AbortController();
  readonly #inFlight = new Set<AzureDelivery>();
  readonly #locks = new Map<ServiceBusReceivedMessage, MessageLockKeeper>();
  readonly #lockDurationMs: number;
  readonly #renewForMs: number;
  #loop: Promise<void> = Promise.resolve();
  #closing: Promise<void> | undefined;

  /** `lockDurationMs` is only a fallback: the broker's `lockedUntilUtc` on each message rules. */
  constructor(context: ConsumerContext, lockDurationMs: number) {
    this.#context = context;
    this.#lockDurationMs = lockDurationMs;
    this.#renewForMs = lockRenewalWindowMs(context.spec.handlerTimeoutMs);
    this.#receiver = context.client.createReceiver(context.topic, context.subscription, {
      receiveMode: 'peekLock',
      maxAutoLockRenewalDurationInMs: 0,
      skipParsingBodyAsJson: true,
    });
    const settlement = settlementFor(
      context,
      'scheduled-copy',
      (ms) => sleep(ms, this.#stop.signal),
      (held) => confirmRemovedByPeek(held.receiver, held.message, context.operationTimeoutMs),
    );
    this.#dispatcher = new KeyedDispatcher<ServiceBusReceivedMessage>({
      concurrency: context.spec.concurrency,
      ordered: false,
      run: (message) =>
        handleMessage(message, this.#receiver, context, settlement, this.#inFlight).finally(() =>
          this.#unlockKeeper(message),
        ),
      onError: (error) => context.onError(mapAzureError(error, 'receive', this.#describe())),
    });
  }

  /** Start the pull loop. */
  start(): void {
    this.#loop = this.#run();
  }

  /** See the class description. Idempotent. */
  close(drainTimeoutMs: number): Promise<void> {
    this.#closing ??= this.#close(drainTimeoutMs);
    return this.#closing;
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    this.#stop.abort();
    const unstarted = this.#dispatcher.stop();
    for (const message of unstarted) this.#unlockKeeper(message);
    await Promise.all(unstarted.map((message) => releaseQuietly(this.#receiver, message)));
    const [, drained] = await Promise.all([this.#loop, this.#dispatcher.drain(drainTimeoutMs)]);
    // Handlers still running past the drain time: give their messages back now (their late
    // settlements reject) instead of leaving them locked until the lock expires.
    if (!drained) await Promise.all([...this.#inFlight].map(giveBack));
    for (const keeper of this.#locks.values()) keeper.stop();
    this.#locks.clear();
    await this.#receiver.close().catch(() => undefined);
  }

  async #run(): Promise<void> {
    let errors = 0;
    const signal = this.#stop.signal;
    while (!signal.aborted) {
      await this.#dispatcher.waitForCapacity();
      if (signal.aborted) break;
      let messages: ServiceBusReceivedMessage[];
      try {
        const receiving = this.#receiver.receiveMessages(Math.max(1, this.#dispatcher.freeSlots), {
          maxWaitTimeInMs: this.#context.receiveWaitMs,
        });
        allowSlowDrain(this.#receiver, this.#context.operationTimeoutMs);
        messages = await receiving;
        if (errors > 0) this.#context.onHealthy();
        errors = 0;
      } catch (error) {
        if (signal.aborted) break;
        errors += 1;
        this.#context.onError(mapAzureError(error, 'receive', this.#describe()));
        await sleep(backoffMs(errors), signal);
        continue;
      }
      for (const message of messages) {
        if (signal.aborted) await releaseQuietly(this.#receiver, message);
        else if (isOtherGroupsRetry(message, this.#context.subscription))
          await completeQuietly(this.#receiver, message);
        else {
          this.#locks.set(
            message,
            keepMessageLocked(this.#receiver, message, this.#lockDurationMs, this.#renewForMs),
          );
          this.#dispatcher.push(message);
        }
      }
    }
  }

  #unlockKeeper(message: ServiceBusReceivedMessage): void {
    this.#locks.get(message)?.stop();
    this.#locks.delete(message);
  }

  #describe(): string {
    return `${this.#context.topic}/${this.#context.subscription}`;
  }
}
