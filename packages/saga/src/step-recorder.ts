import { randomUUID } from 'node:crypto';
import { UnrecoverableError, type EventDefinition, type HandlerContext } from '@omnibus/core';
import type { SagaDefinition } from './define-saga.js';
import type { SagaMessage, SagaStatus, SagaTimeout } from './saga-record.js';
import type { SagaPublishOptions, SagaStepContext } from './saga-step-context.js';

/** Dead-letter code: a step published an event not listed in the saga's `publishes`. */
export const SAGA_EVENT_UNDECLARED = 'SAGA_EVENT_UNDECLARED';
/** Dead-letter code: a step scheduled a timeout with no `onTimeout` step, or a bad delay. */
export const SAGA_TIMEOUT_INVALID = 'SAGA_TIMEOUT_INVALID';

/** A timeout armed by a step, with its message. */
export interface ArmedTimeout extends SagaTimeout {
  readonly message: SagaMessage;
}

/**
 * The {@link SagaStepContext} of one step: collects what the step does, applied only by the
 * runner's commit. One per step; not shared.
 */
export class StepRecorder<S> implements SagaStepContext<S> {
  state: S;
  readonly messages: SagaMessage[] = [];
  readonly compensations: SagaMessage[] = [];
  readonly armed: ArmedTimeout[] = [];
  readonly cancelled = new Set<string>();
  ended: { status: Exclude<SagaStatus, 'active'>; reason: string | undefined } | undefined;

  constructor(
    readonly definition: SagaDefinition<S>,
    readonly id: string,
    readonly version: number,
    readonly message: HandlerContext,
    state: S,
    readonly maxTimeoutMs: number,
  ) {
    this.state = state;
  }

  get saga(): string {
    return this.definition.name;
  }

  publish<T>(event: EventDefinition<T>, payload: T, options: SagaPublishOptions = {}): void {
    this.messages.push(this.#message(event, payload, options));
  }

  addCompensation<T>(event: EventDefinition<T>, payload: T, options: SagaPublishOptions = {}): void {
    this.compensations.push(this.#message(event, payload, options));
  }

  schedule(name: string, delayMs: number, data?: unknown): void {
    if (!this.definition.timeouts.has(name))
      throw new UnrecoverableError(
        `saga "${this.saga}" schedules timeout "${name}" but declares no onTimeout("${name}")`,
        {
          code: SAGA_TIMEOUT_INVALID,
        },
      );
    if (!Number.isFinite(delayMs) || delayMs < 0 || delayMs > this.maxTimeoutMs)
      throw new UnrecoverableError(
        `saga "${this.saga}" timeout "${name}": delay ${String(delayMs)} ms is outside 0..${String(this.maxTimeoutMs)} ms (the transport's delayed delivery)`,
        { code: SAGA_TIMEOUT_INVALID },
      );
    const token = randomUUID();
    const dueAt = new Date(Date.now() + delayMs).toISOString();
    const payload = { sagaId: this.id, token, name, ...(data === undefined ? {} : { data }) };
    const message = this.#message(this.definition.timeoutEvent, payload, { delayMs });
    const index = this.armed.findIndex((t) => t.name === name);
    if (index >= 0) this.armed.splice(index, 1);
    this.armed.push({ token, name, dueAt, message });
    this.cancelled.add(name);
  }

  cancelTimeout(name: string): void {
    const index = this.armed.findIndex((t) => t.name === name);
    if (index >= 0) this.armed.splice(index, 1);
    this.cancelled.add(name);
  }

  complete(reason?: string): void {
    this.ended = { status: 'completed', reason };
  }

  compensate(reason?: string): void {
    this.ended = { status: 'compensated', reason };
  }

  #message(event: EventDefinition<unknown>, payload: unknown, options: SagaPublishOptions): SagaMessage {
    const declared =
      event.name === this.definition.timeoutEvent.name ||
      (this.definition.options.publishes ?? []).some((e) => e.name === event.name);
    if (!declared)
      throw new UnrecoverableError(
        `saga "${this.saga}" publishes "${event.name}", which is not listed in its publishes option`,
        { code: SAGA_EVENT_UNDECLARED },
      );
    const envelope = this.message.envelope;
    return {
      event: event.name,
      payload,
      id: randomUUID(),
      correlationId: options.correlationId ?? envelope.correlationId ?? envelope.id,
      causationId: envelope.id,
      ...(options.delayMs === undefined
        ? {}
        : { delayMs: options.delayMs, notBefore: new Date(Date.now() + options.delayMs).toISOString() }),
      ...(options.partitionKey === undefined ? {} : { partitionKey: options.partitionKey }),
      ...(options.headers === undefined ? {} : { headers: options.headers }),
    };
  }
}
