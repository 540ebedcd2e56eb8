import type { ServiceBusSessionReceiver } from '@azure/service-bus';
import { isAbortError, isNoSessionAvailable, mapAzureError } from '../azure-error-mapper.js';
import { backoffMs, completeQuietly, handleMessage, isOtherGroupsRetry, releaseQuietly, sleep } from './consumer-context.js';
import type { Consumer, ConsumerContext } from './consumer-context.js';
import { keepSessionLocked } from './session-lock-keeper.js';

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
 * wait up to the drain time for the running handlers (and in-place retry waits), then close the
 * session receivers; their unsettled messages are redelivered by the broker.
 */
export class SessionConsumer implements Consumer {
  readonly #context: ConsumerContext;
  readonly #lockMs: number;
  readonly #stop = new AbortController();
  readonly #force = new AbortController();
  readonly #open = new Set<ServiceBusSessionReceiver>();
  readonly #serving = new Set<Promise<void>>();
  #closing: Promise<void> | undefined;

  constructor(context: ConsumerContext, lockDurationMs: number) {
    this.#context = context;
    this.#lockMs = lockDurationMs;
  }

  /** Start the workers. */
  start(): void {
    for (let i = 0; i < this.#context.spec.concurrency; i += 1) {
      this.#work().catch((error: unknown) => this.#context.onError(mapAzureError(error, 'receive', this.#describe())));
    }
  }

  /** See the class description. Idempotent. */
  close(drainTimeoutMs: number): Promise<void> {
    this.#closing ??= this.#close(drainTimeoutMs);
    return this.#closing;
  }

  async #close(drainTimeoutMs: number): Promise<void> {
    this.#stop.abort();
    // Workers still waiting in acceptNextSession are not awaited: the SDK ignores the abort
    // signal there, and a session they get later is closed at once, unused.
    const drained = await Promise.race([
      Promise.all(this.#serving).then(() => true),
      sleep(drainTimeoutMs).then(() => false),
    ]);
    if (drained) return;
    this.#force.abort();
    await Promise.all([...this.#open].map((session) => session.close().catch(() => undefined)));
  }

  async #work(): Promise<void> {
    const stop = this.#stop.signal;
    let errors = 0;
    while (!stop.aborted) {
      let session: ServiceBusSessionReceiver;
      try {
        session = await this.#context.client.acceptNextSession(this.#context.topic, this.#context.subscription, {
          receiveMode: 'peekLock',
          maxAutoLockRenewalDurationInMs: 0,
          skipParsingBodyAsJson: true,
          abortSignal: stop,
        });
      } catch (error) {
        if (stop.aborted || isAbortError(error)) break;
        if (isNoSessionAvailable(error)) {
          await sleep(this.#idlePollMs(), stop);
          continue;
        }
        errors += 1;
        this.#context.onError(mapAzureError(error, 'receive', this.#describe()));
        await sleep(backoffMs(errors), stop);
        continue;
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
      if (!this.#stop.signal.aborted) this.#context.onError(mapAzureError(error, 'receive', this.#describe()));
    } finally {
      this.#open.delete(session);
      await session.close().catch(() => undefined);
    }
  }

  async #serve(session: ServiceBusSessionReceiver): Promise<void> {
    const stop = this.#stop.signal;
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
        await handleMessage(message, session, this.#context, 'in-place', (ms) => sleep(ms, this.#force.signal)).catch(
          (error: unknown) => this.#context.onError(mapAzureError(error, 'receive', this.#describe())),
        );
      }
    } finally {
      lock.stop();
    }
  }

  #idlePollMs(): number {
    return Math.min(1_000, Math.max(100, Math.floor(this.#context.receiveWaitMs / 4)));
  }

  #describe(): string {
    return `${this.#context.topic}/${this.#context.subscription} (sessions)`;
  }
}
