import {
  ErrorCodes,
  EventHandler,
  OmnibusError,
  type Constructor,
  type EventDefinition,
  type HandlerContext,
  type Logger,
} from '@omnibus/core';
import type { SagaDefinition, SagaTimeoutPayload } from './define-saga.js';
import { InMemorySagaStore } from './in-memory-saga-store.js';
import { SagaEmitter, type SagaEventName, type SagaListener } from './saga-events.js';
import type { SagaRecord } from './saga-record.js';
import { SagaRunner, type SagaPublisher } from './saga-runner.js';
import type { SagaQuery, SagaStore } from './saga-store.js';

/** Options of {@link SagaHost}. */
export interface SagaHostOptions {
  /** The sagas to run. Names must be unique. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly sagas: readonly SagaDefinition<any>[];
  /** Where instances live. Default: a new {@link InMemorySagaStore}. */
  readonly store?: SagaStore;
  /** Logger for failing listeners. */
  readonly logger?: Logger;
}

/** Options of {@link SagaHost.resendPending}. */
export interface SagaResendOptions {
  /**
   * Only instances whose last step committed at least this long ago (default 30 000 ms): a step
   * that just committed is still publishing its own messages. A resend never changes ids, so
   * racing one costs a duplicate delivery at most.
   */
  readonly olderThanMs?: number;
  /** Only this saga. */
  readonly saga?: string;
  /** Most instances per pass (default 100, oldest first). */
  readonly limit?: number;
}

/** Outcome of {@link SagaHost.resendPending}. */
export interface SagaResendResult {
  /** Instances whose pending steps were all published. */
  readonly instances: number;
  /** Messages published. */
  readonly messages: number;
  /** Instances whose resend failed (their remaining entries stay pending for the next pass). */
  readonly failures: readonly { readonly saga: string; readonly id: string; readonly error: unknown }[];
}

/** Options of {@link SagaHost.sweepPending}. */
export interface SagaSweepOptions extends SagaResendOptions {
  /** Pause between passes (default 10 000 ms). */
  readonly intervalMs?: number;
}

/** A running pending sweep, as returned by {@link SagaHost.sweepPending}. */
export interface SagaSweep {
  /** Stop the sweep: no further pass starts; resolves once a pass in progress has finished. */
  stop(): Promise<void>;
}

/**
 * Runs sagas on an `EventBus`: `handlers` are ordinary handler classes (one per saga, one
 * `@EventHandler` method per event and one for the saga's timeouts, all in the saga's group),
 * registered like any other; `attach(bus)` gives them the bus to publish through. Applications
 * without sagas never load this package, so it costs them nothing.
 *
 * @example
 * ```ts
 * const sagas = new SagaHost({ sagas: [Fulfilment], store });
 * const bus = createEventBus({ handlers: [...sagas.handlers] });
 * sagas.attach(bus);
 * await bus.start();
 * ```
 */
export class SagaHost {
  /** Handler classes to pass to `createEventBus({ handlers })` (constructed with `new`, no arguments). */
  readonly handlers: readonly Constructor[];
  /** Every event the sagas handle or publish, timeout events included (for `createEventBus({ events })`). */
  readonly events: readonly EventDefinition<unknown>[];
  /** The store (for queries; writes go through steps only). */
  readonly store: SagaStore;
  readonly #emitter: SagaEmitter;
  readonly #logger: Logger | undefined;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly #runners = new Map<string, SagaRunner<any>>();
  #publisher: SagaPublisher | undefined;

  constructor(options: SagaHostOptions) {
    this.store = options.store ?? new InMemorySagaStore();
    this.#emitter = new SagaEmitter(options.logger);
    this.#logger = options.logger;
    const names = new Set<string>();
    for (const saga of options.sagas) {
      if (names.has(saga.name))
        throw new OmnibusError(ErrorCodes.CONFIGURATION_INVALID, `two sagas are named "${saga.name}"`);
      names.add(saga.name);
    }
    this.handlers = options.sagas.map((saga) => this.#handlerClass(saga));
    const events = new Map<string, EventDefinition<unknown>>();
    for (const saga of options.sagas)
      for (const event of [
        ...saga.bindings.map((b) => b.event),
        ...(saga.options.publishes ?? []),
        ...(saga.timeouts.size > 0 ? [saga.timeoutEvent as EventDefinition<unknown>] : []),
      ])
        events.set(event.name, event);
    this.events = [...events.values()];
  }

  /** Publish through `bus` (call before `bus.start()`). Returns the host. */
  attach(bus: SagaPublisher): this {
    this.#publisher = bus;
    return this;
  }

  /** Listen to a saga event (`saga.transition`, `saga.conflict`, `saga.deferred`, `saga.ignored`). Returns a disposer. */
  on<K extends SagaEventName>(name: K, listener: SagaListener<K>): () => void {
    return this.#emitter.on(name, listener);
  }

  /** One instance by saga name and correlation id. */
  get(saga: string, id: string): Promise<SagaRecord | undefined> {
    return this.store.load(saga, id);
  }

  /** Instances matching `query` (by correlation id, status, last change, timeouts). */
  find(query: SagaQuery): Promise<SagaRecord[]> {
    return this.store.find(query);
  }

  /** Active instances whose last step committed more than `olderThanMs` ago. */
  stuck(olderThanMs: number, saga?: string): Promise<SagaRecord[]> {
    return this.store.find({
      status: 'active',
      updatedBefore: new Date(Date.now() - olderThanMs),
      ...(saga === undefined ? {} : { saga }),
    });
  }

  /** Instances a timeout fired on (`overdue`: active ones with an armed timeout already past due). */
  timedOut(options: { readonly saga?: string; readonly overdue?: boolean } = {}): Promise<SagaRecord[]> {
    const saga = options.saga === undefined ? {} : { saga: options.saga };
    return options.overdue === true
      ? this.store.find({ ...saga, status: 'active', timeoutDueBefore: new Date() })
      : this.store.find({ ...saga, timedOut: true });
  }

  /**
   * Publish the messages of steps that committed but whose publish was never confirmed — the
   * process crashed between commit and publish, and the message that ran the step will not come
   * back (it was dead-lettered, or the broker lost it). Each message keeps the id it was first
   * written with, so consumers see at worst a duplicate; a step's entry is removed once all its
   * messages are accepted. Nothing to do with a store that writes messages to an outbox (its relay
   * publishes them). One pass; see {@link SagaHost.sweepPending} for a periodic one.
   */
  async resendPending(options: SagaResendOptions = {}): Promise<SagaResendResult> {
    let instances = 0;
    let messages = 0;
    const failures: { saga: string; id: string; error: unknown }[] = [];
    if (this.store.writesMessages) return { instances, messages, failures };
    const records = await this.store.find({
      pending: true,
      // "At least olderThanMs ago": updatedAt <= now - olderThanMs (the query is strict).
      updatedBefore: new Date(Date.now() - (options.olderThanMs ?? 30_000) + 1),
      ...(options.saga === undefined ? {} : { saga: options.saga }),
      ...(options.limit === undefined ? {} : { limit: options.limit }),
    });
    for (const record of records) {
      const runner = this.#runners.get(record.saga);
      if (runner === undefined) continue; // a saga this host does not run
      try {
        messages += await runner.resendPending(record);
        instances += 1;
      } catch (error) {
        failures.push({ saga: record.saga, id: record.id, error });
      }
    }
    return { instances, messages, failures };
  }

  /**
   * Run {@link SagaHost.resendPending} every `intervalMs` until the returned `stop` is called
   * (which waits for a pass in progress). Failures are logged (`logger.warn`) and retried on the
   * next pass. The timer does not keep the process alive.
   */
  sweepPending(options: SagaSweepOptions = {}): SagaSweep {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let pass: Promise<void> = Promise.resolve();
    const schedule = (): void => {
      if (stopped) return;
      timer = setTimeout(() => {
        pass = this.resendPending(options).then(
          (result) => {
            for (const f of result.failures)
              this.#logger?.warn('saga pending messages not re-sent; retried on the next pass', {
                saga: f.saga,
                id: f.id,
                error: f.error,
              });
          },
          (error: unknown) =>
            this.#logger?.warn('saga pending sweep failed; retried on the next pass', { error }),
        );
        void pass.then(schedule);
      }, options.intervalMs ?? 10_000);
      timer.unref();
    };
    schedule();
    return {
      stop: async () => {
        stopped = true;
        clearTimeout(timer);
        await pass;
      },
    };
  }

  #publisherOrThrow = (): SagaPublisher => {
    if (this.#publisher === undefined)
      throw new OmnibusError(
        ErrorCodes.BUS_NOT_STARTED,
        'the SagaHost has no bus: call sagas.attach(bus) before bus.start()',
      );
    return this.#publisher;
  };

  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  #handlerClass(saga: SagaDefinition<any>): Constructor {
    const runner = new SagaRunner({
      definition: saga,
      store: this.store,
      emitter: this.#emitter,
      publisher: this.#publisherOrThrow,
    });
    this.#runners.set(saga.name, runner);
    const options = { ...saga.options.handler, group: saga.group };
    const Handlers = class {};
    Object.defineProperty(Handlers, 'name', { value: `Saga(${saga.name})` });
    const define = (
      method: string,
      event: EventDefinition<unknown>,
      run: (payload: unknown, context: HandlerContext) => Promise<void>,
    ): void => {
      const descriptor = { value: run, writable: true, configurable: true, enumerable: false };
      Object.defineProperty(Handlers.prototype, method, descriptor);
      EventHandler(event, options)(Handlers.prototype, method, descriptor);
    };
    for (const binding of saga.bindings)
      define(binding.event.name, binding.event, (payload, context) =>
        runner.handleEvent(binding, payload, context),
      );
    if (saga.timeouts.size > 0)
      define('timeout', saga.timeoutEvent, (payload, context) =>
        runner.handleTimeout(payload as SagaTimeoutPayload, context),
      );
    return Handlers;
  }
}
