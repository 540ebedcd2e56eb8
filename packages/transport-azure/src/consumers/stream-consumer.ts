import type { ServiceBusReceivedMessage, ServiceBusReceiver } from '@azure/service-bus';
import { sleep } from '@omnibus/core/adapter-kit';
import { mapAzureError } from '../azure-error-mapper.js';
import type { AzureDelivery, AzureSettlement } from '../azure-delivery.js';
import {
  completeQuietly,
  giveBack,
  handleMessage,
  isOtherGroupsRetry,
  releaseQuietly,
  settlementFor,
} from './consumer-context.js';
import type { Consumer, ConsumerContext } from './consumer-context.js';
import { keepMessageLocked, lockRenewalWindowMs } from './message-lock-keeper.js';
import { confirmRemovedByPeek } from './receive-link-state.js';

/**
 * Consumer for an unordered group on the SDK's streaming receiver: one peek-lock receiver,
 * `subscribe` with `maxConcurrentCalls = spec.concurrency` and no auto-completion. The SDK keeps
 * the link's credit topped up — one credit back each time a `processMessage` call returns — so
 * messages flow without a request per batch, and at most `spec.concurrency` are locked by this
 * consumer at once (each call returns only once its delivery is settled). Each message's lock is
 * renewed (by {@link keepMessageLocked}, not the SDK) from receipt until its delivery is done, for
 * at most `handlerTimeoutMs` + 1 min (at least 5 min).
 *
 * Experimental (option `receiver: 'stream'`). Errors: the SDK retries the link on every error by
 * itself; each error it reports is passed to `context.onError` (status `reconnecting`) and the
 * next delivery reports the consumer healthy. Known gap: the SDK re-attaches after a dropped
 * connection without reporting an error, so the transport status stays `ready` through it.
 * Deliveries received before a dropped connection cannot be settled any more (see
 * `receivedOnClosedLink`); a complete or dead-letter cut off mid-flight is checked with a peek
 * (`confirmRemovedByPeek`).
 *
 * Close: stop the flow (the link stays open so running handlers can still settle), abandon any
 * message that arrives afterwards, wait up to the drain time for running handlers, abandon the
 * messages of handlers still running after that (their later settlement rejects), then close
 * the receiver.
 */
export class StreamConsumer implements Consumer {
  readonly #context: ConsumerContext;
  readonly #receiver: ServiceBusReceiver;
  readonly #stop = new AbortController();
  readonly #inFlight = new Set<AzureDelivery>();
  readonly #running = new Set<Promise<void>>();
  readonly #lockDurationMs: number;
  readonly #renewForMs: number;
  readonly #settlement: AzureSettlement;
  #subscription: { close(): Promise<void> } | undefined;
  #failing = false;
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
    this.#settlement = settlementFor(
      context,
      'scheduled-copy',
      (ms) => sleep(ms, this.#stop.signal),
      (held) => confirmRemovedByPeek(held.receiver, held.message, context.operationTimeoutMs),
    );
  }

  /** Start the stream. */
  start(): void {
    this.#subscription = this.#receiver.subscribe(
      {
        processMessage: (message) => this.#track(this.#process(message)),
        processError: (args) => {
          if (this.#stop.signal.aborted) return Promise.resolve();
          this.#failing = true;
          this.#context.onError(mapAzureError(args.error, 'receive', this.#describe()));
          return Promise.resolve();
        },
      },
      { maxConcurrentCalls: this.#context.spec.concurrency, autoCompleteMessages: false },
    );
  }

  /** See the class description. Idempotent. */
  close(drainTimeoutMs: number): Promise<void> {
    this.#closing ??= this.#close(drainTimeoutMs);
    return this.#closing;
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    this.#stop.abort();
    await this.#subscription?.close().catch(() => undefined);
    const drained = await this.#drain(drainTimeoutMs);
    // Handlers still running past the drain time: give their messages back now (their late
    // settlements reject) instead of leaving them locked until the lock expires.
    if (!drained) await Promise.all([...this.#inFlight].map(giveBack));
    await this.#receiver.close().catch(() => undefined);
  }

  async #process(message: ServiceBusReceivedMessage): Promise<void> {
    if (this.#stop.signal.aborted) {
      await releaseQuietly(this.#receiver, message);
      return;
    }
    if (this.#failing) {
      this.#failing = false;
      this.#context.onHealthy();
    }
    if (isOtherGroupsRetry(message, this.#context.subscription)) {
      await completeQuietly(this.#receiver, message);
      return;
    }
    const keeper = keepMessageLocked(this.#receiver, message, this.#lockDurationMs, this.#renewForMs);
    try {
      await handleMessage(message, this.#receiver, this.#context, this.#settlement, this.#inFlight);
    } catch (error) {
      this.#context.onError(mapAzureError(error, 'receive', this.#describe()));
    } finally {
      keeper.stop();
    }
  }

  /** Keep `work` in {@link #running} until it settles; never rejects (the SDK would abandon). */
  #track(work: Promise<void>): Promise<void> {
    this.#running.add(work);
    return work.finally(() => this.#running.delete(work));
  }

  /** True when every running handler finished within `timeoutMs`. */
  async #drain(timeoutMs: number): Promise<boolean> {
    if (this.#running.size === 0) return true;
    const stop = new AbortController();
    const all = Promise.all([...this.#running]).then(() => true);
    const timeout = sleep(timeoutMs, stop.signal).then(() => false);
    try {
      return await Promise.race([all, timeout]);
    } finally {
      stop.abort();
    }
  }

  #describe(): string {
    return `${this.#context.topic}/${this.#context.subscription}`;
  }
}
