import { noopLogger, type Logger } from '@omnibus/core';
import type { SagaStatus } from './saga-record.js';

/** Fields every saga event carries. */
export interface SagaEventBase {
  readonly saga: string;
  /** Correlation id of the instance. */
  readonly id: string;
  /** Event name of the step, or `timeout:<name>`. */
  readonly step: string;
  /** Id of the message being handled. */
  readonly messageId: string;
}

/** Instrumentation events of a `SagaHost` (`host.on(name, listener)`). */
export interface SagaEvents {
  /** A step committed: the instance moved from `fromVersion` to `toVersion` (`fromVersion` 0: created). */
  'saga.transition': SagaEventBase & {
    readonly fromVersion: number;
    readonly toVersion: number;
    readonly from: SagaStatus | 'new';
    readonly to: SagaStatus;
    /** Messages the step published (timeouts and compensations included). */
    readonly messages: number;
    readonly durationMs: number;
  };
  /** A step lost a version conflict: nothing was written, the message is redelivered and the step re-runs on fresh state. */
  'saga.conflict': SagaEventBase & { readonly expectedVersion: number; readonly attempt: number };
  /** No instance yet and `whenMissing: 'retry'`: the message is redelivered later. */
  'saga.deferred': SagaEventBase & { readonly attempt: number; readonly delayMs: number };
  /**
   * A message acknowledged without running a step: `no-instance` (`whenMissing: 'ignore'`, or a
   * timeout for an unknown instance), `finished` (the instance completed or compensated),
   * `stale-timeout` (re-armed or cancelled since), `duplicate` (this message id was applied
   * already), `already-started` (a starting event for an existing instance).
   */
  'saga.ignored': SagaEventBase & {
    readonly reason: 'no-instance' | 'finished' | 'stale-timeout' | 'duplicate' | 'already-started';
  };
}

/** Name of a saga event. */
export type SagaEventName = keyof SagaEvents;
/** Listener of saga event `K`. */
export type SagaListener<K extends SagaEventName> = (event: SagaEvents[K]) => void;

/** Synchronous typed emitter; a throwing listener is logged and never affects the step. */
export class SagaEmitter {
  readonly #listeners = new Map<SagaEventName, Set<(event: never) => void>>();

  constructor(readonly logger: Logger = noopLogger) {}

  /** Add a listener; returns a disposer. */
  on<K extends SagaEventName>(name: K, listener: SagaListener<K>): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    const stored = listener as (event: never) => void;
    set.add(stored);
    return () => {
      set.delete(stored);
    };
  }

  /** True when someone listens to `name` (skip building the event otherwise). */
  has(name: SagaEventName): boolean {
    return (this.#listeners.get(name)?.size ?? 0) > 0;
  }

  /** Call every listener of `name`; never throws. */
  emit<K extends SagaEventName>(name: K, event: SagaEvents[K]): void {
    const set = this.#listeners.get(name);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as SagaListener<K>)(event);
      } catch (error) {
        this.logger.warn('saga listener failed', { event: name, error });
      }
    }
  }
}
