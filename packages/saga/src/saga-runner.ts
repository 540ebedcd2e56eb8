import {
  ErrorCodes,
  OmnibusError,
  RetryLaterError,
  type EventDefinition,
  type HandlerContext,
  type PublishOptions,
} from '@omnibus/core';
import { correlationIdOf } from './correlate.js';
import type { SagaDefinition, SagaEventBinding, SagaStep, SagaTimeoutPayload } from './define-saga.js';
import type { SagaEmitter, SagaEventBase } from './saga-events.js';
import type { SagaMessage, SagaPendingStep, SagaRecord } from './saga-record.js';
import type { SagaOutgoing, SagaStore } from './saga-store.js';
import { StepRecorder } from './step-recorder.js';

/** How many recent message ids an instance remembers (a redelivery of one is not applied again). */
export const HANDLED_IDS_KEPT = 32;

/** The slice of `EventBus` a saga needs to publish. */
export interface SagaPublisher {
  /** Publish durably (resolves once the transport accepted the message); an `EventBus` fits. */
  publish<T>(event: EventDefinition<T>, payload: T, options?: PublishOptions): Promise<unknown>;
  /** When present (an `EventBus`), timeouts are checked against its delayed delivery. */
  readonly transport?:
    | { readonly capabilities: { readonly delayedDelivery: false | { readonly maxDelayMs: number } } }
    | undefined;
}

/** What the runner needs from its host. */
export interface SagaRunnerOptions<S> {
  readonly definition: SagaDefinition<S>;
  readonly store: SagaStore;
  readonly emitter: SagaEmitter;
  /** The bus to publish through (throws when the host is not attached yet). */
  readonly publisher: () => SagaPublisher;
  /** Random source of the conflict retry delay, [0, 1) (tests). Default `Math.random`. */
  readonly random?: () => number;
}

/**
 * Runs one saga's steps: find the instance, skip what was applied, run the step on a copy of the
 * state, commit with the version check, then publish (unless the store wrote the messages to an
 * outbox). A lost version conflict throws `RetryLaterError` so the router redelivers the message
 * and the step re-runs on fresh state. Stateless between messages; safe for concurrent deliveries.
 */
export class SagaRunner<S> {
  readonly #o: SagaRunnerOptions<S>;
  readonly #events = new Map<string, EventDefinition<unknown>>();

  constructor(options: SagaRunnerOptions<S>) {
    this.#o = options;
    const d = options.definition;
    for (const event of [...(d.options.publishes ?? []), d.timeoutEvent as EventDefinition<unknown>])
      this.#events.set(event.name, event);
  }

  /** Handle an event bound with `on`/`startedBy`. */
  async handleEvent(binding: SagaEventBinding<S>, payload: unknown, context: HandlerContext): Promise<void> {
    const d = this.#o.definition;
    const id = correlationIdOf(binding.correlate, payload, context.envelope, d.name);
    const base = this.#base(id, binding.event.name, context);
    const record = await this.#o.store.load(d.name, id);
    if (record === undefined) {
      if (binding.whenMissing === 'ignore') return this.#ignored(base, 'no-instance');
      if (binding.whenMissing === 'retry') {
        const delayMs = d.options.missingRetryDelayMs ?? 1000;
        this.#o.emitter.emit('saga.deferred', { ...base, attempt: context.deliveryAttempt, delayMs });
        throw new RetryLaterError(delayMs, `saga "${d.name}" has no instance "${id}" yet`);
      }
      return this.#run(base, undefined, binding.step, payload, context, false);
    }
    if (await this.#alreadyApplied(record, base)) return;
    if (record.status !== 'active') return this.#ignored(base, 'finished');
    if (binding.starts) return this.#ignored(base, 'already-started');
    return this.#run(base, record, binding.step, payload, context, false);
  }

  /** Handle one of the saga's timeout messages. */
  async handleTimeout(payload: SagaTimeoutPayload, context: HandlerContext): Promise<void> {
    const d = this.#o.definition;
    const base = this.#base(payload.sagaId, `timeout:${payload.name}`, context);
    const record = await this.#o.store.load(d.name, payload.sagaId);
    if (record === undefined) return this.#ignored(base, 'no-instance');
    if (await this.#alreadyApplied(record, base)) return;
    if (record.status !== 'active') return this.#ignored(base, 'finished');
    const armed = record.timeouts.find((t) => t.token === payload.token);
    const step = d.timeouts.get(payload.name);
    if (armed === undefined || step === undefined) return this.#ignored(base, 'stale-timeout');
    const fired = { ...record, timeouts: record.timeouts.filter((t) => t.token !== payload.token) };
    return this.#run(base, fired, step, payload.data, context, true, record.version);
  }

  async #run(
    base: SagaEventBase,
    record: SagaRecord | undefined,
    step: SagaStep<S, unknown>,
    payload: unknown,
    context: HandlerContext,
    isTimeout: boolean,
    version = record?.version ?? 0,
  ): Promise<void> {
    const started = Date.now();
    const d = this.#o.definition;
    const state = record === undefined ? d.options.initialState() : (structuredClone(record.state) as S);
    const recorder = new StepRecorder(d, base.id, version, context, state, this.#maxTimeoutMs());
    await step(recorder, payload);
    const next = this.#nextRecord(record, recorder, base, isTimeout, version);
    const messages = [...recorder.messages, ...recorder.armed.map((t) => t.message)];
    if (recorder.ended?.status === 'compensated')
      messages.push(...[...(record?.compensations ?? []), ...recorder.compensations].reverse());
    const store = this.#o.store;
    const outcome = await store.save({
      record: next,
      expectedVersion: version,
      messages: store.writesMessages ? messages.map((m) => this.#outgoing(m)) : [],
      pending: store.writesMessages ? [] : messages,
    });
    if (outcome === 'conflict') {
      this.#o.emitter.emit('saga.conflict', {
        ...base,
        expectedVersion: version,
        attempt: context.deliveryAttempt,
      });
      const delayMs = Math.round((this.#o.random ?? Math.random)() * (d.options.conflictRetryDelayMs ?? 100));
      throw new RetryLaterError(
        delayMs,
        `saga "${d.name}" instance "${base.id}" changed since version ${String(version)}`,
      );
    }
    if (!store.writesMessages && messages.length > 0)
      await this.#dispatch(next, { version: next.version, messages });
    if (this.#o.emitter.has('saga.transition'))
      this.#o.emitter.emit('saga.transition', {
        ...base,
        fromVersion: version,
        toVersion: next.version,
        from: record?.status ?? 'new',
        to: next.status,
        messages: messages.length,
        durationMs: Date.now() - started,
      });
  }

  #nextRecord(
    record: SagaRecord | undefined,
    r: StepRecorder<S>,
    base: SagaEventBase,
    isTimeout: boolean,
    version: number,
  ): SagaRecord {
    const now = new Date().toISOString();
    const ended = r.ended;
    const kept = (record?.timeouts ?? []).filter((t) => !r.cancelled.has(t.name));
    const timeouts =
      ended === undefined
        ? [...kept, ...r.armed.map(({ token, name, dueAt }) => ({ token, name, dueAt }))]
        : [];
    const reason = ended?.reason ?? record?.reason;
    return {
      saga: this.#o.definition.name,
      id: base.id,
      version: version + 1,
      status: ended?.status ?? 'active',
      state: r.state,
      timeouts,
      compensations: ended === undefined ? [...(record?.compensations ?? []), ...r.compensations] : [],
      handled: [...(record?.handled ?? []), { messageId: base.messageId, version: version + 1 }].slice(
        -HANDLED_IDS_KEPT,
      ),
      pending: record?.pending ?? [],
      timedOut: (record?.timedOut ?? false) || isTimeout,
      ...(reason === undefined ? {} : { reason }),
      lastStep: base.step,
      createdAt: record?.createdAt ?? now,
      updatedAt: now,
    };
  }

  /**
   * Publish every pending step of `record` (same message ids as first written) and remove each
   * entry once its messages are accepted. Returns how many messages were published. A step whose
   * publish fails keeps its entry (and the error propagates); the steps before it are done.
   */
  async resendPending(record: SagaRecord): Promise<number> {
    let sent = 0;
    for (const step of record.pending) {
      await this.#dispatch(record, step);
      sent += step.messages.length;
    }
    return sent;
  }

  /** A redelivery of an applied message: publish what the step may not have published, then acknowledge. */
  async #alreadyApplied(record: SagaRecord, base: SagaEventBase): Promise<boolean> {
    const handled = record.handled.find((h) => h.messageId === base.messageId);
    if (handled === undefined) return false;
    const pending = record.pending.find((p) => p.version === handled.version);
    if (pending !== undefined) await this.#dispatch(record, pending);
    this.#ignored(base, 'duplicate');
    return true;
  }

  /** Publish one step's messages in order (same ids as first written), then remove its pending entry. */
  async #dispatch(record: SagaRecord, step: SagaPendingStep): Promise<void> {
    const publisher = this.#o.publisher();
    for (const message of step.messages) {
      const { event, payload, options } = this.#outgoing(message);
      await publisher.publish(event, payload, options);
    }
    await this.#o.store.markDispatched(record.saga, record.id, step.version);
  }

  #outgoing(m: SagaMessage): SagaOutgoing {
    const event = this.#events.get(m.event);
    if (event === undefined)
      throw new OmnibusError(
        ErrorCodes.CONFIGURATION_INVALID,
        `saga "${this.#o.definition.name}" has a stored message of "${m.event}", which is not in its publishes list any more`,
      );
    const delayMs = m.notBefore === undefined ? undefined : Math.max(0, Date.parse(m.notBefore) - Date.now());
    const options: PublishOptions & { id: string } = {
      id: m.id,
      ...(m.correlationId === undefined ? {} : { correlationId: m.correlationId }),
      ...(m.causationId === undefined ? {} : { causationId: m.causationId }),
      ...(delayMs === undefined || delayMs === 0 ? {} : { delayMs }),
      ...(m.partitionKey === undefined ? {} : { partitionKey: m.partitionKey }),
      ...(m.headers === undefined ? {} : { headers: m.headers }),
    };
    return { event, payload: m.payload, options };
  }

  #maxTimeoutMs(): number {
    const delayed = this.#o.publisher().transport?.capabilities.delayedDelivery;
    if (delayed === false) return -1;
    return delayed?.maxDelayMs ?? Number.MAX_SAFE_INTEGER;
  }

  #base(id: string, step: string, context: HandlerContext): SagaEventBase {
    return { saga: this.#o.definition.name, id, step, messageId: context.envelope.id };
  }

  #ignored(
    base: SagaEventBase,
    reason: 'no-instance' | 'finished' | 'stale-timeout' | 'duplicate' | 'already-started',
  ): void {
    this.#o.emitter.emit('saga.ignored', { ...base, reason });
  }
}
