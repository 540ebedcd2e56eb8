import type { ServiceBusSessionReceiver } from '@azure/service-bus';
import { sleep } from '@omnibus/core/adapter-kit';
import { isAbortError, isNoSessionAvailable, mapAzureError } from '../azure-error-mapper.js';
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
import { allowSlowDrain } from './receive-link-state.js';
import { keepSessionLocked } from './session-lock-keeper.js';
import type { AzureDelivery, AzureSettlement } from '../azure-delivery.js';

/** Pause after a refused accept before asking again. */
const IDLE_RETRY_MS = 100;

/**
 * Consumer for an ordered group (session-enabled subscription; session id = partition key).
 * Runs `spec.concurrency` workers; each accepts the next free session, takes its messages one
 * at a time in sequence order and runs the handler for each before asking for the next, so one
 * key is never handled twice at once and at most `concurrency` handlers run. A worker releases
 * its session after it has been idle for `receiveWaitMs` and accepts another.
 *
 * Retries stay in order: the delivery waits out the delay while this worker keeps the session
 * locked (renewing it), then abandons the message, which the broker hands back before anything
 * behind it with its delivery count one higher.
 *
 * Close: stop accepting sessions and messages (a message received after that is abandoned),
 * wait up to the drain time for the running handlers (and in-place retry waits), abandon the
 * messages of handlers still running (their later settlement rejects), then close the
 * session receivers.
 */
export class SessionConsumer implements Consumer {
  readonly #context: ConsumerContext;
  readonly #lockMs: number;
  readonly #stop = new AbortController();
  readonly #force = new AbortController();
  readonly #open = new Set<ServiceBusSessionReceiver>();
  readonly #inFlight = new Set<AzureDelivery>();
  readonly #serving = new Set<Promise<void>>();
  readonly #accepting = new Set<Promise<void>>();
  readonly #acceptTimeoutMs: number;
  readonly #settlement: AzureSettlement;
  #closing: Promise<void> | undefined;

  /**
   * `context.client` must be the transport's session client, whose operation timeout
   * (`acceptTimeoutMs`) is also the server-side wait of each `acceptNextSession`.
   */
  constructor(context: ConsumerContext, lockDurationMs: number, acceptTimeoutMs: number) {
    this.#context = context;
    this.#lockMs = lockDurationMs;
    this.#acceptTimeoutMs = acceptTimeoutMs;
    this.#settlement = settlementFor(context, 'in-place', (ms) => sleep(ms, this.#force.signal));
  }

  /** Start the workers. */
  start(): void {
    for (let i = 0; i < this.#context.spec.concurrency; i += 1) {
      this.#work().catch((error: unknown) =>
        this.#context.onError(mapAzureError(error, 'receive', this.#describe())),
      );
    }
  }

  /** See the class description. Idempotent. */
  close(drainTimeoutMs: number): Promise<void> {
    this.#closing ??= this.#close(drainTimeoutMs);
    return this.#closing;
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    this.#stop.abort();
    const drained = await Promise.race([
      Promise.all(this.#serving).then(() => true),
      sleep(drainTimeoutMs).then(() => false),
    ]);
    if (!drained) {
      this.#force.abort();
      await Promise.all([...this.#inFlight].map(giveBack));
      await Promise.all([...this.#open].map((session) => session.close().catch(() => undefined)));
    }
    // The SDK ignores the abort signal in acceptNextSession, and a pending accept still open when
    // the connection closes leaves a 60 s timer behind (rhea-promise), so wait for the pending
    // accepts to end; the server ends each after the session client's short operation timeout.
    await Promise.race([Promise.all(this.#accepting), sleep(this.#acceptTimeoutMs + 1_000)]);
  }

  async #work(): Promise<void> {
    const stop = this.#stop.signal;
    let errors = 0;
    while (!stop.aborted) {
      let session: ServiceBusSessionReceiver;
      const accepting = this.#context.client.acceptNextSession(
        this.#context.topic,
        this.#context.subscription,
        {
          receiveMode: 'peekLock',
          maxAutoLockRenewalDurationInMs: 0,
          skipParsingBodyAsJson: true,
        },
      );
      const settled = accepting.then(
        () => undefined,
        () => undefined,
      );
      this.#accepting.add(settled);
      try {
        session = await accepting;
      } catch (error) {
        if (stop.aborted || isAbortError(error)) break;
        if (isNoSessionAvailable(error)) {
          // The server already waited; pause briefly only so a fast refusal cannot spin.
          await sleep(IDLE_RETRY_MS, stop);
          continue;
        }
        errors += 1;
        this.#context.onError(mapAzureError(error, 'receive', this.#describe()));
        await sleep(backoffMs(errors), stop);
        continue;
      } finally {
        this.#accepting.delete(settled);
      }
      if (stop.aborted) {
        await session.close().catch(() => undefined);
        break;
      }
      if (errors > 0) this.#context.onHealthy();
      errors = 0;
      const serving = this.#serveAndRelease(session);
      this.#serving.add(serving);
      await serving;
      this.#serving.delete(serving);
    }
  }

  async #serveAndRelease(session: ServiceBusSessionReceiver): Promise<void> {
    this.#open.add(session);
    try {
      await this.#serve(session);
    } catch (error) {
      if (!this.#stop.signal.aborted)
        this.#context.onError(mapAzureError(error, 'receive', this.#describe()));
    } finally {
      this.#open.delete(session);
      await session.close().catch(() => undefined);
    }
  }

  async #serve(session: ServiceBusSessionReceiver): Promise<void> {
    const stop = this.#stop.signal;
    allowSlowDrain(session, this.#context.operationTimeoutMs);
    const lock = keepSessionLocked(session, this.#lockMs);
    try {
      while (!stop.aborted && !lock.lost) {
        const [message] = await session.receiveMessages(1, { maxWaitTimeInMs: this.#context.receiveWaitMs });
        if (message === undefined) return;
        if (stop.aborted || lock.lost) {
          await releaseQuietly(session, message);
          return;
        }
        if (isOtherGroupsRetry(message, this.#context.subscription)) {
          await completeQuietly(session, message);
          continue;
        }
        await handleMessage(message, session, this.#context, this.#settlement, this.#inFlight).catch(
          (error: unknown) => this.#context.onError(mapAzureError(error, 'receive', this.#describe())),
        );
      }
    } finally {
      lock.stop();
    }
  }

  #describe(): string {
    return `${this.#context.topic}/${this.#context.subscription} (sessions)`;
  }
}
